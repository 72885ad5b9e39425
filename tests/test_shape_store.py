"""The shape store (runtime/shape_store.py): op output types the tracer inferred are kept on
disk, so that a new process traces without asking JAX again; a damaged line is computed
again, a wrong one is refused when the program is lowered, and keys tell apart every value
the in-memory cache does."""

import jax
import numpy as np
import pytest
from jax.experimental.compilation_cache import compilation_cache

import graphnet
import graphnet.nn as nn
from graphnet import _compile_cache
from graphnet._errors import TraceError
from graphnet.compiler import shapes
from graphnet.runtime import program_store, shape_store

OPTIONS = ("jax_compilation_cache_dir", *_compile_cache._THRESHOLDS)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh compile cache in tmp_path, an empty in-memory type cache and no store read
    yet, as in a new process; JAX's settings put back afterwards."""
    saved = {option: getattr(jax.config, option) for option in OPTIONS}
    origin = dict(_compile_cache._origin)
    monkeypatch.delenv(program_store.ENV, raising=False)
    monkeypatch.setattr(shapes, "_cache", {})
    monkeypatch.setattr(shape_store, "_stores", {})
    graphnet.set_compile_cache(tmp_path / "cache")
    yield tmp_path / "cache" / "graphnet-shapes"
    shapes.backing = None
    for option, value in saved.items():
        jax.config.update(option, value)
    _compile_cache._origin.update(origin)
    compilation_cache.reset_cache()


def _new_process(monkeypatch):
    """Forget what this process inferred and read, as a new process would."""
    monkeypatch.setattr(shapes, "_cache", {})
    monkeypatch.setattr(shape_store, "_stores", {})


def _run():
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = graphnet.linspace(-1, 1, 20).reshape(5, 4)
    return graphnet.compile(model)(x).detach().numpy()


def _count_evals(monkeypatch) -> list:
    calls = []
    real = shapes._eval_types

    def counted(op, inputs, attrs):
        calls.append(op)
        return real(op, inputs, attrs)
    monkeypatch.setattr(shapes, "_eval_types", counted)
    return calls


def test_a_new_process_takes_the_types_from_the_store(cache, monkeypatch):
    first_calls = _count_evals(monkeypatch)
    first = _run()
    assert first_calls, "the first process infers the types"
    files = list(cache.glob("*.txt"))
    assert len(files) == 1 and len(files[0].read_text().splitlines()) == len(first_calls) == 3
    _new_process(monkeypatch)
    calls = _count_evals(monkeypatch)
    np.testing.assert_array_equal(_run(), first)
    assert calls == []


def test_a_damaged_line_is_inferred_again(cache, monkeypatch):
    expected = _run()
    path = next(cache.glob("*.txt"))
    lines = path.read_text().splitlines()
    # one byte of each line's types changed (its checksum no longer matches) and a torn
    # last line, as an interrupted append leaves it
    damaged = [line[:-2] + ("7" if line[-2] != "7" else "8") + line[-1] for line in lines]
    path.write_text("\n".join(damaged) + "\n" + lines[0][: len(lines[0]) // 2])
    _new_process(monkeypatch)
    calls = _count_evals(monkeypatch)
    np.testing.assert_array_equal(_run(), expected)
    assert len(calls) == len(lines)


def test_a_wrong_entry_is_refused_when_lowered(cache, monkeypatch):
    _run()
    path = next(cache.glob("*.txt"))
    lines = path.read_text().splitlines()
    relu = [line for line in lines if "\t('relu'," in line]
    assert len(relu) == 1
    crc, text, types = relu[0].split("\t")
    assert types == '[[[5, 3], "float32"]]'
    # a well-formed line with the wrong batch: the layers after relu accept it
    body = f"{text}\t" + '[[[1, 3], "float32"]]'
    forged = f"{shape_store.zlib.crc32(body.encode()):08x}\t{body}"
    path.write_text("\n".join(forged if line == relu[0] else line for line in lines) + "\n")
    _new_process(monkeypatch)
    with pytest.raises(TraceError, match=r"relu .* gave shape \[5, 3\] where the trace "
                                         r"recorded \[1, 3\]"):
        _run()


def test_off_with_the_program_store(cache, monkeypatch):
    monkeypatch.setenv(program_store.ENV, "off")
    _run()
    assert not cache.exists()


def test_another_graphnet_source_opens_another_file(cache, monkeypatch):
    _run()
    monkeypatch.setattr(program_store, "_fingerprint", ["another graphnet"])
    _new_process(monkeypatch)
    calls = _count_evals(monkeypatch)
    _run()
    assert calls and len(list(cache.glob("*.txt"))) == 2


def test_key_text_tells_apart_what_the_cache_does():
    texts = [shape_store.key_text(v) for v in
             (1, 1.0, True, 0.0, -0.0, float("nan"), "1", None, (1,), [1],
              np.dtype("float32"), np.dtype("int32"), graphnet.float32, int, float,
              slice(1, 2), slice(1, 2, None), ...)]
    assert None not in texts[:-2]
    assert len(set(texts)) == len(texts) - 1   # slice(1, 2) is slice(1, 2, None)
    assert shape_store.key_text((1, lambda: 0)) is None     # a callable: never written
    assert shape_store.key_text(np.float64(1.0)) is None
