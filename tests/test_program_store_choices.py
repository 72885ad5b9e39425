"""The program store and the conv autotuner together (runtime/program_store.py,
graphnet/_ops/conv_autotune.py): the per-op lowering choices are not part of a stored
program's key, so a program lowered while its convolutions fell back to the fixed rule (the
process's measuring budget spent) must not be stored, or every later process would load it and
never measure those convolutions; and a stored program whose choices the tuner has since
replaced is lowered again. The tuner's timer is faked: nothing here depends on real timings."""

import jax
import numpy as np
import pytest
from jax.experimental.compilation_cache import compilation_cache

import graphnet
import graphnet.backends
import graphnet.nn as nn
from graphnet import _compile_cache
from graphnet._ops import conv_autotune
from graphnet.runtime import program_store, refine

OPTIONS = ("jax_compilation_cache_dir", *_compile_cache._THRESHOLDS)
SHAPE = (2, 3, 11, 9)     # no other test's conv: no in-memory kernel already holds it


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh compile cache, program store and autotune cache in tmp_path, autotuning on
    with a fake timer (shifted slices fastest) and no whole-step refinement; everything put
    back afterwards."""
    saved = {option: getattr(jax.config, option) for option in OPTIONS}
    origin = dict(_compile_cache._origin)
    monkeypatch.delenv(program_store.ENV, raising=False)
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_CACHE", str(tmp_path / "autotune.json"))
    times = {"xla": 3.0, "xla_channels_last": 4.0, "patches_matmul": 2.0,
             "shifted_matmuls": 1.0}
    monkeypatch.setattr(conv_autotune, "measure",
                        lambda fns, args: {(d, n): times[n] for d, n in fns})
    monkeypatch.setattr(refine, "applies", lambda *args: False)
    conv_autotune.clear_memory()
    graphnet.backends.autotune(True)
    graphnet.set_compile_cache(tmp_path / "cache")
    yield tmp_path / "cache" / "graphnet-programs"
    conv_autotune.set_enabled(None)
    conv_autotune.clear_memory()
    for option, value in saved.items():
        jax.config.update(option, value)
    _compile_cache._origin.update(origin)
    compilation_cache.reset_cache()


def _new_process(monkeypatch, budget: float) -> None:
    """What a new process starts with: no choices in memory, a fresh measuring budget. (The
    budget is patched, not set through GRAPHNET_AUTOTUNE_BUDGET: every GRAPHNET_* variable is
    part of the program store's key.)"""
    conv_autotune.clear_memory()
    monkeypatch.setattr(conv_autotune, "budget_s", lambda: budget)


def _run():
    """A compiled conv forward from fixed weights: (its output, the program store's status,
    the conv's lowering row from explain())."""
    graphnet.manual_seed(0)
    layer = nn.Conv2d(3, 4, 3, padding=1)
    x = graphnet.linspace(-1, 1, int(np.prod(SHAPE))).reshape(SHAPE)
    forward = graphnet.compile(lambda a: layer(a).relu())
    with graphnet.no_grad():
        out = forward(x).numpy()
        eager = layer(x).relu().numpy()
    np.testing.assert_allclose(out, eager, rtol=1e-5, atol=1e-5)
    [graph] = forward.explain()["per_graph"]
    [row] = [r for r in graph["lowerings"] if r["op"] == "conv2d"]
    return out, graph["program_store"], row


def test_a_program_lowered_by_the_rule_for_want_of_budget_is_not_stored(store, monkeypatch):
    _new_process(monkeypatch, budget=0.0)
    ruled, status, row = _run()
    assert status.startswith("not stored: 1 lowering choice(s) left for a later process"), \
        status
    assert row["source"] == "rule" and row["choice"]["forward"] != "shifted_matmuls"
    assert not list(store.glob("*.program"))

    _new_process(monkeypatch, budget=1e9)     # the next process measures, then stores
    measured, status, row = _run()
    assert status.startswith("stored"), status
    assert row["source"] == "measured" and row["choice"]["forward"] == "shifted_matmuls"
    np.testing.assert_allclose(measured, ruled, rtol=1e-5, atol=1e-5)

    _new_process(monkeypatch, budget=0.0)     # and the one after loads it, measuring nothing
    loaded, status, row = _run()
    assert status.startswith("loaded from the program store"), status
    assert row["choice"]["forward"] == "shifted_matmuls" and row["source"] == "cache"
    np.testing.assert_array_equal(loaded, measured)


def test_a_stored_program_whose_choices_changed_is_lowered_again(store, monkeypatch):
    _new_process(monkeypatch, budget=1e9)
    first, status, row = _run()
    assert status.startswith("stored"), status
    [entry] = store.glob("*.program")
    # the tuner's cache now says otherwise (measured again elsewhere, say)
    record = conv_autotune.stored_record(row["key"])
    record["choice"] = dict.fromkeys(record["choice"], "patches_matmul")
    conv_autotune.store_record(row["key"], record)
    _new_process(monkeypatch, budget=0.0)
    again, status, row = _run()
    assert status == f"stored ({entry.name})", status      # lowered again, written over
    assert row["choice"]["forward"] == "patches_matmul"
    np.testing.assert_allclose(again, first, rtol=1e-5, atol=1e-5)
    _new_process(monkeypatch, budget=0.0)
    assert _run()[1].startswith("loaded from the program store")


def test_with_autotuning_off_the_rule_program_is_stored(store, monkeypatch):
    conv_autotune.set_enabled(False)
    _new_process(monkeypatch, budget=0.0)
    _, status, row = _run()
    assert row["source"] == "rule" and status.startswith("stored"), status
    _new_process(monkeypatch, budget=0.0)
    assert _run()[1].startswith("loaded from the program store")


def test_no_refinement_is_stored_while_choices_are_left_to_measure(store, monkeypatch):
    """The whole-step refinement (runtime/refine.py) is stored too, keyed by the graph alone:
    judged on a program whose convolutions the rule lowered for want of budget, it would stand
    after they are measured. The fake timer spends the budget on the first conv."""
    monkeypatch.setattr(refine, "applies", lambda *args: True)
    fast = conv_autotune.measure

    def spending(fns, args):
        conv_autotune.spend(100.0)
        return fast(fns, args)
    monkeypatch.setattr(conv_autotune, "measure", spending)
    _new_process(monkeypatch, budget=50.0)
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    forward = graphnet.compile(model)
    x = graphnet.linspace(-1, 1, int(np.prod(SHAPE))).reshape(SHAPE)
    with graphnet.no_grad():
        np.testing.assert_allclose(forward(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)
    [graph] = forward.explain()["per_graph"]
    assert graph["refinement"] is None
    assert sorted(r["source"] for r in graph["lowerings"]) == ["measured", "rule"]
    assert graph["program_store"].startswith("not stored: 1 lowering choice(s) left")
    records = conv_autotune._choices.values()
    assert not [r for r in records if r.get("kind") == "step"]
