"""The program store (runtime/program_store.py): a static program compiled again (here, or in
a new process) runs the StableHLO stored by the first compile instead of tracing and lowering
it through JAX, computing the same numbers; anything that changes the lowering misses; what
cannot be stored or read is compiled as before."""

import jax
import numpy as np
import pytest
from jax.experimental.compilation_cache import compilation_cache

import graphnet
import graphnet.nn as nn
import graphnet.nn.functional as F
from graphnet import _compile_cache
from graphnet.runtime import program_store

OPTIONS = ("jax_compilation_cache_dir", *_compile_cache._THRESHOLDS)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh compile cache (and so program store) in tmp_path; JAX's settings put back."""
    saved = {option: getattr(jax.config, option) for option in OPTIONS}
    origin = dict(_compile_cache._origin)
    monkeypatch.delenv(program_store.ENV, raising=False)
    graphnet.set_compile_cache(tmp_path / "cache")
    yield tmp_path / "cache" / "graphnet-programs"
    for option, value in saved.items():
        jax.config.update(option, value)
    _compile_cache._origin.update(origin)
    compilation_cache.reset_cache()


def _train(steps=3, slope=0.1, batch=8):
    """A compiled SGD-momentum step on a small MLP from a fixed start: (final weights, the
    program store status of each graph compiled)."""
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.LeakyReLU(slope), nn.Linear(5, 3))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    @graphnet.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    x = graphnet.linspace(-2, 2, batch * 6).reshape(batch, 6)
    y = graphnet.arange(batch) % 3
    for _ in range(steps):
        step(x, y)
    statuses = [g["program_store"] for g in step.explain()["per_graph"]]
    return [p.detach().numpy().copy() for p in model.parameters()], statuses


def test_a_second_compile_runs_the_stored_program(store, monkeypatch):
    first, stored = _train()
    assert all(s.startswith("stored") for s in stored), stored
    assert len(list(store.glob("*.program"))) == len(stored) == 2   # state-creating + steady
    second, loaded = _train()
    assert all(s.startswith("loaded from the program store") for s in loaded), loaded
    monkeypatch.setenv(program_store.ENV, "off")
    plain, off = _train()
    assert off == ["off", "off"]
    for a, b, c in zip(first, second, plain):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_a_changed_attribute_or_shape_is_lowered_again(store):
    base, _ = _train(slope=0.1)
    other, statuses = _train(slope=0.5)
    assert all(s.startswith("stored") for s in statuses), statuses
    assert not np.allclose(base[0], other[0])
    _, statuses = _train(batch=4)
    assert all(s.startswith("stored") for s in statuses), statuses


def test_a_changed_graphnet_source_is_lowered_again(store, monkeypatch):
    _train()
    monkeypatch.setattr(program_store, "_fingerprint", ["another graphnet"])
    _, statuses = _train()
    assert all(s.startswith("stored") for s in statuses), statuses


def test_a_corrupt_or_foreign_entry_is_ignored_and_replaced(store):
    good, _ = _train()
    entries = sorted(store.glob("*.program"))
    entries[0].write_bytes(b"not a program")
    entries[1].write_bytes(entries[1].read_bytes()[:200])    # cut short
    again, statuses = _train()
    assert all(s.startswith("stored") for s in statuses), statuses
    for a, b in zip(good, again):
        np.testing.assert_array_equal(a, b)
    _, statuses = _train()
    assert all(s.startswith("loaded") for s in statuses), statuses


def test_off_with_the_compile_cache(store):
    graphnet.set_compile_cache(None)
    _, statuses = _train()
    assert statuses == ["off", "off"]


class _Twice(graphnet.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_a_custom_function_backward_is_never_stored(store):
    """Its backward is the user's Python, which the graph does not hold. (Without a gradient,
    its forward is traced as ordinary ops, which the graph does hold, and may be stored.)"""
    @graphnet.compile
    def f(x):
        y = _Twice.apply(x).sum()
        y.backward()
        return y

    x = graphnet.ones(3, requires_grad=True)
    assert f(x).item() == 6.0 and x.grad.tolist() == [2.0, 2.0, 2.0]
    status = f.explain()["per_graph"][0]["program_store"]
    assert status.startswith("not stored"), status
    assert not list(store.glob("*.program"))


def test_a_program_calling_lapack_is_stored_and_loaded(store):
    a = np.array([[4.0, 1.0], [2.0, 3.0]], np.float32)

    def run():
        f = graphnet.compile(lambda m: graphnet.linalg.inv(m) * 3)
        out = f(graphnet.tensor(a)).numpy()
        return out, f.explain()["per_graph"][0]["program_store"]

    first, status = run()
    assert status.startswith("stored"), status
    second, status = run()
    assert status.startswith("loaded"), status
    np.testing.assert_allclose(first, np.linalg.inv(a) * 3, rtol=1e-5)
    np.testing.assert_array_equal(first, second)


def test_the_same_program_from_another_source_line_is_loaded(store):
    """A node's source line (the user's file:line) is not part of the key: the lowering never
    reads it, and an edit above the model's code moves every line."""
    x = graphnet.linspace(-1, 1, 6)
    first = graphnet.compile(lambda t: t.sin() * 2)
    expected = first(x).numpy()
    assert first.explain()["per_graph"][0]["program_store"].startswith("stored")
    # the same code on another line
    second = graphnet.compile(lambda t: t.sin() * 2)
    np.testing.assert_array_equal(second(x).numpy(), expected)
    assert second.explain()["per_graph"][0]["program_store"].startswith("loaded")
