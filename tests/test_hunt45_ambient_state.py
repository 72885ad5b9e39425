"""A compiled function that reads a ContextVar or the environment compiles again when the
value changes, instead of running the program traced with the old one."""

import contextlib
import contextvars
import os
from os import environ

import numpy as np

import graphnet as gn

ADAPTERS_ON = contextvars.ContextVar("adapters_on", default=True)
SWITCHES = {"scale": contextvars.ContextVar("scale", default=1.0)}


@contextlib.contextmanager
def disable_adapters():
    token = ADAPTERS_ON.set(False)
    try:
        yield
    finally:
        ADAPTERS_ON.reset(token)


class Adapted(gn.nn.Module):
    def __init__(self):
        super().__init__()
        self.base = gn.nn.Linear(3, 2)
        self.delta = gn.nn.Linear(3, 2, bias=False)
        gn.nn.init.constant_(self.delta.weight, 1.0)

    def forward(self, x):
        out = self.base(x)
        if ADAPTERS_ON.get():
            out = out + self.delta(x) * SWITCHES["scale"].get()
        return out


def test_context_variables_are_guarded_by_value():
    model = Adapted()
    compiled = gn.compile(model)
    x = gn.ones(1, 3)
    with gn.no_grad():
        base = model.base(x).numpy()
        np.testing.assert_allclose(compiled(x).numpy(), base + 3.0, rtol=1e-6)
        with disable_adapters():
            np.testing.assert_allclose(compiled(x).numpy(), base, rtol=1e-6)
        np.testing.assert_allclose(compiled(x).numpy(), base + 3.0, rtol=1e-6)
        token = SWITCHES["scale"].set(2.0)
        try:
            np.testing.assert_allclose(compiled(x).numpy(), base + 6.0, rtol=1e-6)
        finally:
            SWITCHES["scale"].reset(token)
        np.testing.assert_allclose(compiled(x).numpy(), base + 3.0, rtol=1e-6)
    assert len(compiled.compiled.artifacts) == 3   # on, off, scale 2: the rest reused


def _gated(x):
    if os.environ.get("GRAPHNET_TEST_GATE") == "1":
        x = x * 10
    if os.getenv("GRAPHNET_TEST_SHIFT"):
        x = x + float(os.getenv("GRAPHNET_TEST_SHIFT"))
    return x + (1 if environ.get("GRAPHNET_TEST_ONE") else 0)


def _gate_only(x):
    return x * 10 if os.environ.get("GRAPHNET_TEST_GATE") == "1" else x


def test_the_environment_is_guarded_by_value(monkeypatch):
    monkeypatch.delenv("GRAPHNET_TEST_GATE", raising=False)
    g = gn.compile(_gate_only)
    assert g(gn.ones(1)).tolist() == [1.0]
    monkeypatch.setenv("GRAPHNET_TEST_GATE", "1")
    assert g(gn.ones(1)).tolist() == [10.0]
    f = gn.compile(_gated)
    x = gn.ones(2)
    for name in ("GRAPHNET_TEST_GATE", "GRAPHNET_TEST_SHIFT", "GRAPHNET_TEST_ONE"):
        monkeypatch.delenv(name, raising=False)
    assert f(x).tolist() == [1.0, 1.0]
    assert f(x).tolist() == [1.0, 1.0]
    monkeypatch.setenv("GRAPHNET_TEST_GATE", "1")
    assert f(x).tolist() == [10.0, 10.0]
    monkeypatch.setenv("GRAPHNET_TEST_SHIFT", "0.5")
    assert f(x).tolist() == [10.5, 10.5]
    monkeypatch.setenv("GRAPHNET_TEST_ONE", "yes")
    assert f(x).tolist() == [11.5, 11.5]
    monkeypatch.delenv("GRAPHNET_TEST_GATE")
    assert f(x).tolist() == [2.5, 2.5]
    assert len(f.compiled.artifacts) == 5


def test_functions_reading_neither_keep_their_program(monkeypatch):
    f = gn.compile(lambda x: x * 2)
    f(gn.ones(2))
    monkeypatch.setenv("GRAPHNET_TEST_UNRELATED", "1")
    f(gn.ones(2))
    assert len(f.compiled.artifacts) == 1
