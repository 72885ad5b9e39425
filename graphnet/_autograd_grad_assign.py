"""PyTorch's refusals of `t.grad = grad` (Tensor.grad's setter)."""

from __future__ import annotations


def check_grad(t, grad) -> None:
    """PyTorch's refusals of `t.grad = grad` (before, a float64 gradient silently made the
    next optimizer step turn a float32 parameter into float64)."""
    from ._tensor import Tensor

    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(grad).__name__}")
    if tuple(grad._value.shape) != tuple(t._value.shape):
        raise RuntimeError(f"attempting to assign a gradient of size '{list(grad.shape)}' to a "
                           f"tensor of size '{list(t.shape)}'. Please ensure that the gradient "
                           f"and the tensor are the same size")
    if grad._value.dtype != t._value.dtype:
        raise RuntimeError(f"attempting to assign a gradient with dtype '{grad.dtype}' to a "
                           f"tensor with dtype '{t.dtype}'. The gradient must match the "
                           f"tensor's dtype")
