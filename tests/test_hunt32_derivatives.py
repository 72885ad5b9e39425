"""Ops whose derivative PyTorch defines, or refuses, as it does (thirty-second session's
quantization hunt): nextafter passes the input's gradient, heaviside, a number's remainder by
a tensor and bernoulli(input, p) raise on backward; before, each dropped out of autograd."""

import pytest
import torch

import graphnet as gn

_MODES = [lambda f: f, gn.compile]


@pytest.mark.parametrize("compile_", _MODES)
def test_nextafter_passes_the_inputs_gradient(compile_):
    def grads(lib, run):
        x = lib.tensor([-1., 0., 2.], requires_grad=True)
        y = lib.full((3,), 10., requires_grad=True)

        def f(x, y):
            (lib.nextafter(x, y) + x).sum().backward()
            return x.grad

        run(f)(x, y)
        return x.grad.tolist(), y.grad.tolist()

    assert grads(gn, compile_) == grads(torch, lambda f: f) == ([2.] * 3, [0.] * 3)


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("op,name", [
    (lambda lib, p: lib.heaviside(p, lib.tensor(0.5)) * p, "heaviside"),
    (lambda lib, p: p.heaviside(lib.tensor(0.5)), "heaviside"),
    (lambda lib, p: 0.3 % p, "remainder"),
    (lambda lib, p: lib.remainder(0.3, p), "remainder"),
    (lambda lib, p: p.bernoulli(0.5) + p, "bernoulli")])
def test_a_backward_through_an_op_without_derivative_raises(compile_, op, name):
    message = f"derivative for aten::{name} is not implemented"
    p = torch.tensor([0.2, 0.5, 0.9], requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        op(torch, p).sum().backward()

    def f(p):
        op(gn, p).sum().backward()
        return p.grad

    with pytest.raises(RuntimeError, match=message):
        compile_(f)(gn.tensor([0.2, 0.5, 0.9], requires_grad=True))


def test_a_tensors_remainder_by_a_tensor_keeps_its_gradient():
    expected, got = (lib.tensor([0.2, 0.5, 0.9], requires_grad=True) for lib in (torch, gn))
    (torch.tensor([0.3] * 3) % expected).sum().backward()
    (gn.tensor([0.3] * 3) % got).sum().backward()
    assert got.grad.tolist() == expected.grad.tolist() == [-1., -0., -0.]
