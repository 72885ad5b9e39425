"""A compiled step that makes its own gradient leaf (`x.clone().requires_grad_()`, a
contractive autoencoder's penalty or an input-gradient saliency map) compiles once.

The hooks guard of the compiled backward held the leaf alive past the trace, so the trace
counted it as new state and traced again on every call; a hook registered on such a leaf
counted as a Python change to repeat, with the same effect (graphnet/autograd/_hooks.py)."""

import numpy as np
import pytest
import torch

import graphnet as gn

W = np.arange(12, dtype=np.float32).reshape(3, 4) / 10 - 0.5
B = np.array([0.1, -0.2, 0.3], dtype=np.float32)
X = np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)


def _model(lib):
    m = lib.nn.Linear(4, 3)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W))
        m.bias.copy_(lib.tensor(B))
    return m


def _contractive(lib, m):
    def step(x):
        x = x.clone().requires_grad_(True)
        h = lib.sigmoid(m(x))
        g, = lib.autograd.grad(h, x, grad_outputs=lib.ones_like(h), create_graph=True)
        return h.pow(2).mean() + g.pow(2).sum()
    return step


def _saliency(lib, m, hook):
    def step(x):
        x = x.detach().requires_grad_()
        if hook:
            x.register_hook(lambda g: g * 2)
        loss = lib.sigmoid(m(x)).sum()
        loss.backward()
        return x.grad * 1
    return step


@pytest.mark.parametrize("kind", ["contractive", "saliency", "saliency_hook"])
def test_a_step_making_its_own_leaf_compiles_once(kind):
    def build(lib):
        m = _model(lib)
        if kind == "contractive":
            return _contractive(lib, m)
        return _saliency(lib, m, hook=kind == "saliency_hook")

    want = build(torch)(torch.tensor(X))
    compiled = gn.compile(build(gn))
    for _ in range(5):
        got = compiled(gn.tensor(X))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-7)
    reasons = compiled.explain()["recompile_reasons"]
    # the saliency step's second graph is the one whose parameters already hold a .grad
    assert len(reasons) <= 2 and all("state" not in r and "Python" not in r for r in reasons), \
        reasons
