"""A custom Function's backward that returns a gradient for a non-tensor argument (the
surrogate slope `alpha` of a spiking neuron) raises PyTorch's error; graphnet dropped the
gradient silently, eagerly and compiled. Found by the spiking-network hunt."""

import pytest
import torch

import graphnet


def _spike(L, second_grad):
    class Spike(L.autograd.Function):
        @staticmethod
        def forward(ctx, v, alpha, scale):
            ctx.save_for_backward(v)
            ctx.alpha = alpha
            return (v > 0).float() * scale

        @staticmethod
        def backward(ctx, g):
            v, = ctx.saved_tensors
            return g / (1 + ctx.alpha * v.abs()) ** 2, second_grad(g), g.sum()

    return Spike


def _run(L, second_grad, scale):
    Spike = _spike(L, second_grad)

    def step(w):
        Spike.apply(w - 0.5, 2.0, scale(L)).sum().backward()
        return w.grad

    return step


@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_a_gradient_for_a_number_argument_raises_as_in_torch(mode):
    args = (lambda g: g.sum(), lambda L: L.tensor(1.0))
    with pytest.raises(RuntimeError) as want:
        _run(torch, *args)(torch.ones(3, requires_grad=True))
    step = _run(graphnet, *args)
    step = graphnet.compile(step) if mode == "static" else step
    with pytest.raises(RuntimeError) as got:
        step(graphnet.ones(3, requires_grad=True))
    assert str(got.value) == str(want.value)
    assert "at position 2" in str(got.value)


@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_none_for_the_number_and_a_gradient_for_a_constant_tensor_are_accepted(mode):
    args = (lambda g: None, lambda L: L.tensor(2.0))   # a tensor that needs no gradient
    want = _run(torch, *args)(torch.ones(3, requires_grad=True))
    step = _run(graphnet, *args)
    step = graphnet.compile(step) if mode == "static" else step
    got = step(graphnet.ones(3, requires_grad=True))
    assert got.tolist() == pytest.approx(want.tolist())
