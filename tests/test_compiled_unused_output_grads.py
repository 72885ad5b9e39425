"""A compiled call's backward differentiates only the outputs a gradient reached: an unused
output whose derivative is inf or NaN at the point (sqrt below zero, log at zero) must not
turn the other outputs' gradients into NaN, as PyTorch and eager mode keep them."""

import numpy as np
import torch

import graphnet as gt


def two_outputs(lib):
    def fn(x, w):
        h = x @ w
        return h.log(), (h - 1.5).sqrt(), (h * 0.5).exp().sum()
    return fn


def grads(lib, compiled, used, retain=False):
    fn = two_outputs(lib)
    if compiled:
        fn = gt.compile(fn)
    x = lib.tensor([[1.0, 2.0], [3.0, 0.5]], requires_grad=True)
    w = lib.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    outs = fn(x, w)
    for i in used:
        (outs[i].sum() if outs[i].dim() else outs[i]).backward(retain_graph=True)
    return np.concatenate([x.grad.numpy().ravel(), w.grad.numpy().ravel()])


def test_unused_output_with_nan_derivative_leaves_other_grads_finite():
    for used in [(0,), (2,), (0, 2), (2, 0)]:
        want = grads(torch, False, used)
        assert np.isfinite(want).all()
        np.testing.assert_allclose(grads(gt, False, used), want, rtol=1e-6)
        np.testing.assert_allclose(grads(gt, True, used), want, rtol=1e-6)


def test_grad_of_one_output_only():
    f = gt.compile(lambda x: (x.log(), (x - 1.5).sqrt()))
    x = gt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, _ = f(x)
    (g,) = gt.autograd.grad(a.sum(), x)
    np.testing.assert_allclose(g.numpy(), [1.0, 0.5, 1 / 3], rtol=1e-6)


def test_hook_on_the_unused_output_gets_no_gradient():
    f = gt.compile(lambda x: (x * 2, (x - 1.5).sqrt()))
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    a, b = f(x)
    seen = []
    b.register_hook(lambda g: seen.append(g))
    a.sum().backward()
    assert all(g is None for g in seen)   # one node, as torch's multi-output ops: None
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
