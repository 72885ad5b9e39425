"""`vmap(jacrev(f))(x)`, the exact divergence of a continuous normalizing flow, gave `x` a
silent zero gradient: the vmap reruns its function under jax.vjp and stops the gradient at
every `detach()`, including the one the inner transform makes its own leaf with
(`_func_tape.private`). Found by the neural-ODE hunt."""

import numpy as np
import pytest
import torch

import graphnet

W0 = [[0.5, -1.0, 0.2], [2.0, 0.3, -0.7], [0.1, 0.4, 0.9]]
X0 = [[0.1, 0.2, -0.3], [0.3, -0.4, 0.5]]


def _f(L, W):
    return lambda z: L.tanh(z @ W)


PROGRAMS = {
    "jacrev": lambda L, W, x: L.diagonal(L.func.vmap(L.func.jacrev(_f(L, W)))(x),
                                         dim1=-2, dim2=-1).sum(),
    "jacfwd": lambda L, W, x: L.diagonal(L.func.vmap(L.func.jacfwd(_f(L, W)))(x),
                                         dim1=-2, dim2=-1).sum(),
    "grad": lambda L, W, x: L.func.vmap(L.func.grad(lambda z: _f(L, W)(z).pow(2).sum()))(
        x).sin().sum(),
    "hessian": lambda L, W, x: L.func.vmap(L.func.hessian(lambda z: _f(L, W)(z).sum()))(
        x).sum(),
    "vjp": lambda L, W, x: L.func.vmap(
        lambda z: L.func.vjp(_f(L, W), z)[1](L.ones(3))[0])(x).pow(2).sum(),
    "jvp": lambda L, W, x: L.func.vmap(
        lambda z: L.func.jvp(_f(L, W), (z,), (L.ones(3),))[1])(x).pow(2).sum(),
    "with_the_value": lambda L, W, x: sum(o.sum() for o in L.func.vmap(
        L.func.grad_and_value(lambda z: _f(L, W)(z).pow(2).sum()))(x)),
}


def _grads(L, program):
    W = L.tensor(W0, requires_grad=True)
    x = L.tensor(X0, requires_grad=True)
    program(L, W, x).backward()
    return x.grad.numpy(), W.grad.numpy()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_batched_input_gets_torch_s_gradient(name):
    want = _grads(torch, PROGRAMS[name])
    got = _grads(graphnet, PROGRAMS[name])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert np.abs(got[0]).sum() > 0


def test_a_detach_in_the_vmapped_function_still_cuts_the_gradient():
    def program(L, W, x):
        return L.func.vmap(lambda z: L.func.jacrev(_f(L, W))(z.detach()))(x).sum()

    for L in (torch, graphnet):
        W = L.tensor(W0, requires_grad=True)
        x = L.tensor(X0, requires_grad=True)
        program(L, W, x).backward()
        # NOTE: PyTorch leaves None; graphnet's vmap node gives its batched input zeros
        assert x.grad is None or not x.grad.numpy().any()
        assert W.grad is not None and W.grad.numpy().any()
