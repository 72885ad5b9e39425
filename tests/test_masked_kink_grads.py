"""Gradients that PyTorch's backward *selects* to 0 (relu at x <= 0, the loser of maximum,
a clamped element ...) stay 0 when the gradient arriving there is inf or NaN (sqrt, log or
1/x of a 0 result), eager and compiled. graphnet's gradients are jax.vjp of each lowering;
a lowering whose rule multiplies by a 0/1 mask gave 0 * inf = NaN there (sqrt(relu(x)) at
x = 0; a Conv1d -> ReLU -> LPPool1d step on zero padding made the weights NaN)."""

from __future__ import annotations

import functools
import numpy as np
import pytest
import torch

import graphnet


def _F(L):
    return L.nn.functional


# name: (loss of the inputs, written for torch and graphnet alike; the inputs)
CASES = {
    "relu": (lambda L, x: L.sqrt(L.relu(x)), [[-1.0, 0.0, -0.0, 4.0]]),
    "F.relu": (lambda L, x: L.log(_F(L).relu(x)), [[-1.0, 0.0, 4.0]]),
    "nn.ReLU": (lambda L, x: 1 / L.nn.ReLU()(x), [[-1.0, 0.0, 4.0]]),
    "relu_": (lambda L, x: L.sqrt((x * 1).relu_()), [[-1.0, 0.0, 4.0]]),
    "maximum": (lambda L, x: L.sqrt(L.maximum(x, L.zeros(3))), [[-1.0, 0.0, 4.0]]),
    "maximum both": (lambda L, x, y: L.sqrt(L.maximum(x, y)), [[-1.0, 0.0, 4.0]],
                     [[0.0, 0.0, -2.0]]),
    "minimum": (lambda L, x: L.sqrt(-L.minimum(x, L.zeros(3))), [[1.0, 0.0, -4.0]]),
    "max(a, b)": (lambda L, x: L.sqrt(L.max(x, L.zeros(3))), [[-1.0, 0.0, 4.0]]),
    "min(a, b)": (lambda L, x: L.sqrt(-L.min(x, L.zeros(3))), [[1.0, 0.0, -4.0]]),
    "fmax": (lambda L, x: L.sqrt(L.fmax(x, L.zeros(3))), [[-1.0, 0.0, 4.0]]),
    "fmin": (lambda L, x: L.sqrt(-L.fmin(x, L.zeros(3))), [[1.0, 0.0, -4.0]]),
    "relu6": (lambda L, x: L.sqrt(_F(L).relu6(x)), [[-1.0, 0.0, 4.0, 7.0]]),
    "hardtanh": (lambda L, x: L.sqrt(_F(L).hardtanh(x, 0.0, 1.0)), [[-1.0, 0.0, 0.5, 2.0]]),
    "hardsigmoid": (lambda L, x: L.sqrt(_F(L).hardsigmoid(x)), [[-5.0, -3.0, 0.0, 4.0]]),
    "threshold": (lambda L, x: L.sqrt(_F(L).threshold(x, 0.5, 0.0)), [[-1.0, 0.0, 0.3, 4.0]]),
    "leaky_relu slope 0": (lambda L, x: L.sqrt(_F(L).leaky_relu(x, 0.0)), [[-1.0, 0.0, 4.0]]),
    "clamp scalar": (lambda L, x: L.sqrt(L.clamp(x, min=0.0)), [[-1.0, 0.0, 4.0]]),
    "clip scalars": (lambda L, x: L.sqrt(L.clip(x, 0.0, 3.0)), [[-1.0, 0.0, 4.0]]),
    "clamp_max": (lambda L, x: 1 / (x.clamp_max(1.0) - 1), [[2.0, 0.0]]),
    "clamp tensor": (lambda L, x, lo: L.sqrt(L.clamp(x, min=lo)), [[-1.0, 0.0, 4.0]],
                     [[0.0, 0.0, 0.0]]),
    "elu": (lambda L, x: 1 / (_F(L).elu(x, 1.0) + 1), [[-200.0, 1.0]]),
    "celu": (lambda L, x: 1 / (_F(L).celu(x, 1.0) + 1), [[-200.0, 1.0]]),
    "prelu": (lambda L, x: L.sqrt(_F(L).prelu(x, L.tensor([0.0]))), [[-1.0, 0.0, 4.0]]),
    "rrelu eval": (lambda L, x: L.sqrt(_F(L).rrelu(x, 0.0, 0.0, training=False)),
                   [[-1.0, 0.0, 4.0]]),
    "softshrink": (lambda L, x: 1 / _F(L).softshrink(x, 0.5), [[0.0, 0.3, -0.5, 1.0, -2.5]]),
    "hardswish": (lambda L, x: L.sqrt(L.abs(_F(L).hardswish(x))), [[-5.0, -4.0, 1.0, 4.0]]),
    "lp_pool1d zero window": (lambda L, x: _F(L).lp_pool1d(x, 2, 2), [[[0.0, 0.0, 1.0, 2.0]]]),
    "lp_pool2d zero window": (lambda L, x: _F(L).lp_pool2d(x, 2, 2),
                              [[[[0.0, 0.0], [0.0, 0.0]]]]),
}


def _torch_grads(loss, values):
    xs = [torch.tensor(v, requires_grad=True) for v in values]
    loss(torch, *xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def _graphnet_grads(loss, values, compiled):
    def step(*xs):
        for x in xs:
            x.grad = None
        loss(graphnet, *xs).sum().backward()
        return [x.grad for x in xs]

    run = graphnet.compile(step) if compiled else step
    return [g.numpy() for g in run(*[graphnet.tensor(v, requires_grad=True) for v in values])]


def _assert_same(got, want):
    """Equal values, NaN where PyTorch's are and the sign of every zero (assert_array_equal
    alone counts -0. == 0.)."""
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "static"])
@pytest.mark.parametrize("name", list(CASES))
def test_inf_upstream_masked_to_zero(name, compiled):
    loss, *values = CASES[name]
    _assert_same(_graphnet_grads(loss, values, compiled), _torch_grads(loss, values))


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "static"])
def test_maximum_minimum_ties_and_nan_split_as_torch(compiled):
    """A tie shares the gradient 0.5/0.5; a NaN operand passes it whole to both (PyTorch
    masks only the loser); the forward values, signed zeros included, are unchanged."""
    a = [1.0, 2.0, -0.0, 0.0, float("nan"), 3.0]
    b = [1.0, 1.0, 0.0, -0.0, 0.0, float("nan")]
    for op in ("maximum", "minimum"):
        def loss(L, x, y, op=op):
            return getattr(L, op)(x, y) * L.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])

        _assert_same(_graphnet_grads(loss, [a, b], compiled), _torch_grads(loss, [a, b]))
    out = graphnet.maximum(graphnet.tensor(a), graphnet.tensor(b)).numpy()
    np.testing.assert_array_equal(out, [1.0, 2.0, 0.0, 0.0, np.nan, np.nan])
    assert not np.signbit(out[2:4]).any()   # graphnet's max(-0., 0.) is 0., as before


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "static"])
def test_relu_lp_pool_step_on_zero_padding_stays_finite(compiled):
    """Conv1d -> ReLU -> LPPool1d over zero-padded input, one SGD step: PyTorch's weights
    stay finite (the relu selects the inf gradient of the empty windows away)."""
    rs = np.random.RandomState(0)
    data = rs.randn(2, 3, 8).astype(np.float32)
    data[:, :, 4:] = 0
    weight = rs.randn(4, 3, 1).astype(np.float32)

    def train(L, compile_step):
        model = L.nn.Sequential(L.nn.Conv1d(3, 4, 1, bias=False), L.nn.ReLU(),
                                L.nn.LPPool1d(2, 2))
        with L.no_grad():
            model[0].weight.copy_(L.tensor(weight))
        opt = L.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).sum()
            loss.backward()
            opt.step()
            return loss

        loss = (compile_step(step) if compile_step else step)(L.tensor(data))
        return float(loss.detach()), model[0].weight.detach().numpy()

    want_loss, want_weight = train(torch, None)
    got_loss, got_weight = train(graphnet, graphnet.compile if compiled else None)
    assert np.isfinite(got_weight).all()
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-6)
    np.testing.assert_allclose(got_weight, want_weight, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_chebyshev_distance_ties_each_take_the_whole_gradient(mode):
    """cdist/pdist at p = inf: every coordinate tying for the max takes the whole gradient,
    as PyTorch's cdist_backward (graphnet split it evenly, as a norm does: +-0.5 for +-1)."""
    a = np.array([[1.0, -2.0], [0.0, 3.0]], np.float32)
    b = np.array([[4.0, 1.0], [0.0, 0.0]], np.float32)
    rows = np.array([[1.0, -2.0], [4.0, 1.0], [0.0, 0.0]], np.float32)
    weights = [[1.0, 2.0], [3.0, 4.0]]

    def grads(L, x, y, z):
        loss = (L.cdist(x, y, p=float("inf")) * L.tensor(weights)).sum() \
            + _F(L).pdist(z, p=float("inf")).sum()
        return L.autograd.grad(loss, (x, y, z))

    want = grads(torch, *(torch.tensor(v, requires_grad=True) for v in (a, b, rows)))
    run = functools.partial(grads, graphnet)
    run = graphnet.compile(run) if mode == "static" else run
    got = run(*(graphnet.tensor(v, requires_grad=True) for v in (a, b, rows)))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g.tolist()), w.numpy())
