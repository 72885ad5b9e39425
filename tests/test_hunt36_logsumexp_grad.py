"""logsumexp's gradient is PyTorch's formula, exp(x - result) of the rounded float32 result,
not the softmax JAX's own derivative gives: the two differ where the result rounds (two
entries of 1e8: 1 each in PyTorch, 0.5 here before) and at infinities (an infinite entry
left the finite ones NaN here, 0 in PyTorch). Found by the RBM hunt (free energies)."""

import numpy as np
import pytest
import torch

import graphnet

INF = float("inf")
CASES = [[1e8, 1e8], [1e7, 1e7], [INF, 1.0], [-INF, 1.0], [-INF, -INF], [1.0, 2.0]]


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("values", CASES, ids=str)
def test_gradient_is_torch_s(values, compiled):
    def grad(L, x):
        L.logsumexp(x, 0).backward()
        return x.grad

    want = grad(torch, torch.tensor(values, requires_grad=True)).numpy()
    fn = graphnet.compile(lambda x: grad(graphnet, x)) if compiled else \
        (lambda x: grad(graphnet, x))
    got = fn(graphnet.tensor(values, requires_grad=True)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("dim,keepdim", [(1, False), ((0, 2), True), (-1, True),
                                         ((0, 1, 2), False)])
def test_second_order_follows_torch(dim, keepdim):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    results = []
    for L in (torch, graphnet):
        t = L.tensor(x, requires_grad=True)
        g, = L.autograd.grad(L.logsumexp(t, dim, keepdim).sin().sum(), t, create_graph=True)
        gg, = L.autograd.grad(g.pow(2).sum(), t)
        results.append((g.detach().numpy(), gg.numpy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10)
