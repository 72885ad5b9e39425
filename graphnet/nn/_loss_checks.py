"""PyTorch's checks on the optional tensors of the losses (class `weight`, `pos_weight`) and
on their dtypes, shared by functional_loss.py and functional_loss_margin.py.

NOTE: without them graphnet answered where PyTorch refuses, and the answers were wrong: a
`weight` larger than the input broadcast the loss to its shape (a [3] BCE against a [4, 1]
weight gave 4 rows), a weight with `requires_grad` silently got no gradient, and a float64
class weight promoted a float32 loss. All run on shapes, dtypes and flags, so eager and
compiled calls raise alike."""

from __future__ import annotations

from .._autograd import is_grad_enabled
from .._errors import GraphnetError
from .._ops._promote import torch_name
from .._tensor import Tensor
from .functional_distance import broadcast_shape


class LossOptionError(GraphnetError, ValueError, RuntimeError):
    """A loss option out of its range (`beta < 0`, `delta <= 0`): PyTorch raises a
    RuntimeError; code written against graphnet's earlier ValueError still catches it."""


def into_input(input: Tensor, other: Tensor | None) -> None:
    """`other` (a weight) broadcasts to the input's shape: PyTorch writes the loss into a
    tensor of that shape, so a larger weight is an error, not a larger loss."""
    if other is None:
        return
    shape = broadcast_shape(input.shape, other.shape)
    if shape != tuple(input.shape):
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")


def not_differentiable(kernel: str, name: str, tensor: Tensor | None) -> None:
    """PyTorch's kernels have no gradient for their weights: refuse one that wants it rather
    than leave its `.grad` silently None."""
    if tensor is not None and tensor.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{kernel}' is not differentiable with respect to "
                           f"argument '{name}'. This input cannot have requires_grad True.")


def same_dtype_weight(input: Tensor, weight: Tensor | None) -> None:
    """A class weight of the input's own dtype (PyTorch's kernels read it as that type)."""
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {torch_name(input.dtype)} but found "
                           f"{torch_name(weight.dtype)}")


def same_dtype_target(input: Tensor, target: Tensor) -> None:
    """binary_cross_entropy's target has the input's dtype."""
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {torch_name(target.dtype)} but expected "
                           f"{torch_name(input.dtype)}")


def cast(t: Tensor | None, dtype) -> Tensor | None:
    return t if t is None or t.dtype == dtype else t.to(dtype)
