"""A module attribute written around `Module.__setattr__` (through `vars(m)`, `m.__dict__`
or `object.__setattr__`) does not move the modules' change count, which the module guard
relies on. Before, the compiled call kept the traced value without a word; now each
module's attributes are compared by identity too, and the next call is checked against
eager graphnet and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet

WRITES = {
    "vars": lambda m, name, v: vars(m).__setitem__(name, v),
    "dict.update": lambda m, name, v: m.__dict__.update({name: v}),
    "object.__setattr__": lambda m, name, v: object.__setattr__(m, name, v),
}


def _scaled(T):
    class Scaled(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(3, 4)
            self.act = T.nn.LeakyReLU(0.1)
            self.scale = 2.0

        def forward(self, x):
            return self.act(self.lin(x)) * self.scale
    return Scaled


def _models():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    models = []
    for T in (torch, graphnet, graphnet):
        m = _scaled(T)()
        with T.no_grad():
            m.lin.weight.copy_(T.tensor(w, dtype=T.float32))
            m.lin.bias.copy_(T.tensor(b, dtype=T.float32))
        models.append(m)
    return models


X = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("where,name,value", [("", "scale", 3.0),
                                              ("act", "negative_slope", 0.5)])
def test_a_write_around_setattr_reaches_the_compiled_call(write, where, name, value):
    tm, em, cm = _models()
    compiled = graphnet.compile(cm)
    x_t, x_g = torch.tensor(X), graphnet.tensor(X)
    np.testing.assert_allclose(compiled(x_g).detach().numpy(), tm(x_t).detach().numpy(), rtol=1e-6)
    for m in (tm, em, cm):
        WRITES[write](getattr(m, where) if where else m, name, value)
    want = tm(x_t).detach().numpy()
    np.testing.assert_allclose(em(x_g).detach().numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(compiled(x_g).detach().numpy(), want, rtol=1e-6)
    assert compiled.explain()["graphs"] == 2


def test_an_equal_value_written_around_setattr_does_not_recompile():
    _, _, cm = _models()
    compiled = graphnet.compile(cm)
    x = graphnet.tensor(X)
    first = compiled(x).detach().numpy()
    for _ in range(3):
        vars(cm)["scale"] = float("2.0")   # a new float object, equal to the traced one
        np.testing.assert_allclose(compiled(x).detach().numpy(), first, rtol=0)
    assert compiled.explain()["graphs"] == 1, compiled.explain()["recompile_reasons"]


def test_a_module_given_another_class_runs_that_class_forward():
    """`m.__class__ = Other` (module-swap and quantization utilities) leaves `__dict__` as it
    was: the compiled call kept the old class's forward."""
    results = {}
    for T in (torch, graphnet):
        class Plus(T.nn.Module):
            def forward(self, x):
                return x + 1

        class Hundred(Plus):
            def forward(self, x):
                return x + 100

        module = Plus()
        run = graphnet.compile(module) if T is graphnet else module
        first = run(T.zeros(2))
        module.__class__ = Hundred
        results[T.__name__] = (first.tolist(), run(T.zeros(2)).tolist())
    assert results["graphnet"] == results["torch"] == ([1.0, 1.0], [100.0, 100.0])
