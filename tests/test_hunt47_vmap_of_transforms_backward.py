"""`backward()` through `func.vmap` of a gradient transform, eagerly: the per-sample
gradients and Jacobians depend on the batched input, so the input gets PyTorch's gradient
(it got zeros: the transform's result was cut from JAX's differentiation of the vmap)."""

import numpy as np
import pytest
import torch

import graphnet as gn

Q = np.random.default_rng(6).normal(size=(4, 3)).astype(np.float32)


def _arm(T, q):
    lengths = T.tensor([1.0, 0.8, 0.5])
    angles = T.cumsum(q, -1)
    return T.stack([(lengths * T.cos(angles)).sum(-1), (lengths * T.sin(angles)).sum(-1)], -1)


def _jacrev(T, q):
    return T.func.vmap(T.func.jacrev(lambda qq: _arm(T, qq)))(q).pow(2).sum()


def _jacfwd(T, q):
    return T.func.vmap(T.func.jacfwd(lambda qq: _arm(T, qq)))(q).pow(2).sum()


def _grad(T, q):
    return T.func.vmap(T.func.grad(lambda qq: _arm(T, qq).sum()))(q).pow(2).sum()


def _hessian(T, q):
    return T.func.vmap(T.func.hessian(lambda qq: qq.sin().prod()))(q).sum()


def _detached_inside(T, q):   # a detach inside still cuts: only the outer term reaches q
    return T.func.vmap(lambda qq: T.func.grad(lambda a: a.pow(3).sum())(qq.detach()) * qq)(
        q).sum()


@pytest.mark.parametrize("loss", [_jacrev, _jacfwd, _grad, _hessian, _detached_inside],
                         ids=lambda f: f.__name__)
def test_backward_through_vmap_of_a_transform_matches_torch(loss):
    tq = torch.tensor(Q, requires_grad=True)
    loss(torch, tq).backward()
    for compiled in (False, True):
        gq = gn.tensor(Q, requires_grad=True)
        (gn.compile(lambda q: loss(gn, q)) if compiled else lambda q: loss(gn, q))(gq).backward()
        np.testing.assert_allclose(gq.grad.numpy(), tq.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert np.abs(tq.grad.numpy()).max() > 0.1
