"""Results PyTorch keeps in autograd without a derivative (`torch.binomial`, `//`): they
require grad when an input does, and a backward that reaches them raises PyTorch's
"derivative for aten::<op> is not implemented" (its grad_fn is named `NotImplemented`)."""

from __future__ import annotations

from ._tensor import Tensor


def without_derivative(result: Tensor, inputs, op: str) -> Tensor:
    """`result`, still requiring grad when one of `inputs` does, with a backward that raises.

    >>> q = without_derivative(x.detach() // 2, (x,), "floor_divide")   # q.grad_fn raises
    """
    from ._autograd import is_grad_enabled
    from .autograd import Function

    tensors = [t for t in inputs if isinstance(t, Tensor)]
    if not is_grad_enabled() or not any(t.requires_grad for t in tensors):
        return result
    # NOTE: compiled or not, it raises only when a gradient reaches it (a compiled
    # forward's structure probe counts it as carrying: autograd/_function_static.carrying)
    message = f"derivative for aten::{op} is not implemented"

    class NotImplemented(Function):   # noqa: A001  (PyTorch's grad_fn name)
        @staticmethod
        def forward(ctx, value, *_):
            return value

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError(message)

    return NotImplemented.apply(result.detach(), *tensors)
