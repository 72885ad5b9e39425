"""A custom autograd.Function on tensors that carry forward-mode tangents (forward_ad dual
tensors, func.jvp / jacfwd) raises instead of guessing a tangent. PyTorch takes it from the
Function's jvp staticmethod and raises without one; graphnet's forward mode differentiated
the backward instead, which gave a gradient-reversal layer a negated tangent and an
@once_differentiable Function a zero one, silently."""

import pytest
import torch

import graphnet
import graphnet.autograd.forward_ad as fwAD
from graphnet.func import jacfwd, jvp


def _functions(T):
    class Reverse(T.autograd.Function):      # a gradient-reversal layer
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return -g

        @staticmethod
        def jvp(ctx, t):
            return t

    class Exp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @T.autograd.function.once_differentiable
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    return Reverse, Exp


def test_torch_uses_jvp_and_graphnet_refuses():
    Reverse, _ = _functions(torch)
    with torch.autograd.forward_ad.dual_level():
        x = torch.autograd.forward_ad.make_dual(torch.ones(3), torch.tensor([1.0, 2.0, 3.0]))
        tangent = torch.autograd.forward_ad.unpack_dual(Reverse.apply(x)).tangent
    assert tangent.tolist() == [1.0, 2.0, 3.0]
    Reverse, _ = _functions(graphnet)
    with fwAD.dual_level():
        x = fwAD.make_dual(graphnet.ones(3), graphnet.tensor([1.0, 2.0, 3.0]))
        with pytest.raises(NotImplementedError, match="does not call a custom Function's jvp"):
            Reverse.apply(x)


@pytest.mark.parametrize("lib", [torch, graphnet])
def test_a_function_without_jvp_raises_torchs_error(lib):
    _, Exp = _functions(lib)
    with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
        with lib.autograd.forward_ad.dual_level():
            x = lib.autograd.forward_ad.make_dual(lib.ones(3), lib.ones(3))
            lib.autograd.forward_ad.unpack_dual(Exp.apply(x))
    if lib is graphnet:   # (torch's func transforms first ask for setup_context)
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            jvp(Exp.apply, (lib.ones(3),), (lib.ones(3),))


def test_func_transforms_refuse_and_reverse_mode_still_runs():
    Reverse, Exp = _functions(graphnet)
    x = graphnet.tensor([0.5, -1.0, 2.0])
    with pytest.raises(NotImplementedError):
        jvp(Reverse.apply, (x,), (graphnet.ones(3),))
    with pytest.raises(NotImplementedError):
        jacfwd(Exp.apply)(x)
    w = x.clone().requires_grad_()
    Exp.apply(Reverse.apply(w)).sum().backward()
    assert w.grad.tolist() == pytest.approx((-x.exp()).tolist())
    with fwAD.dual_level():     # a Function on tensors without tangents is fine in a level
        assert Exp.apply(graphnet.zeros(2)).tolist() == [1.0, 1.0]
