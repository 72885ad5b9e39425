"""Multi-class and multi-label margin losses (`F.multi_margin_loss`,
`F.multilabel_margin_loss`, `F.multilabel_soft_margin_loss`) with PyTorch's checks on the
shapes and dtypes of inputs, targets and weights. Label values are checked by the ops
themselves (graphnet/_ops/loss_extra.py), in eager and compiled calls alike."""

from __future__ import annotations

from .. import _dtype as dt
from .._autocast import autocast_as
from .._dispatch import dispatch
from .._grad_fn_names_nn import reduced_loss
from .._tensor import Tensor
from .functional_distance import broadcast_shape
from ._loss_checks import not_differentiable, same_dtype_weight
from .functional_loss import _reduction

__all__ = ["multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss"]


def _vector_or_matrix(input: Tensor) -> None:
    if input.dim() > 2 or input.numel() == 0 and input.dim() != 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")


def _long(target: Tensor) -> None:
    if target.dtype != dt.int64:
        found = {"float32": "Float", "float64": "Double", "int32": "Int", "float16": "Half",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
        raise RuntimeError(f"expected scalar type Long but found "
                           f"{found.get(target.dtype.name, target.dtype.name)}")


@autocast_as("float32")   # PyTorch's CPU autocast runs it in float32
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: for input [N, C] (or [C]) and int64 class targets [N] (or a
    scalar), the mean over classes j != y of max(0, margin - x[y] + x[j])^p, p 1 or 2,
    times weight[y].

    >>> F.multi_margin_loss(torch.tensor([[0.1, 0.2, 0.4, 0.8]]), torch.tensor([3]))
    tensor(0.3250)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _vector_or_matrix(input)
    n_classes = input.shape[-1] if input.dim() else 1
    rows = input.shape[0] if input.dim() == 2 else 1
    if input.dim() == 2 and (target.dim() > 1 or target.numel() != rows) or \
            input.dim() < 2 and target.numel() != 1:
        raise RuntimeError(
            f"multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{rows}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    _long(target)
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(f"inconsistent weight size, expected {n_classes} but got "
                           f"{list(weight.shape)}")
    same_dtype_weight(input, weight)
    not_differentiable("multi_margin_loss", "weight", weight)
    if input.dtype.name in ("float16", "bfloat16"):   # PyTorch's CPU kernel has none
        raise NotImplementedError(f"\"multi_margin_loss_cpu_kernel\" not implemented for "
                                  f"'{'Half' if input.dtype.name == 'float16' else 'BFloat16'}'")
    x = input.reshape(rows, n_classes)
    extra = () if weight is None else (weight,)
    loss = dispatch("multi_margin_loss", x, target.reshape(rows), *extra, p=int(p),
                    margin=float(margin), reduction=reduction)
    if reduction == "none" and input.dim() < 2:   # a [C] input gives the target's shape
        return loss.reshape(tuple(target.shape))
    return loss


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: each row of the int64 target lists the row's classes, ended
    by the first -1; the loss sums max(0, 1 - (x[target] - x[other])) over listed classes and
    unlisted others, over C.

    >>> F.multilabel_margin_loss(torch.tensor([[0.1, 0.2, 0.4, 0.8]]),
    ...                          torch.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _vector_or_matrix(input)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of "
                           f"size: {list(input.shape)}")
    _long(target)
    if input.dim() == 2:
        return dispatch("multilabel_margin_loss", input, target, reduction=reduction)
    shape = (1, input.shape[0] if input.dim() else 1)
    loss = dispatch("multilabel_margin_loss", input.reshape(shape), target.reshape(shape),
                    reduction=reduction)
    return loss.reshape(()) if reduction == "none" else loss


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss against 0/1 targets, averaged over the classes (last dim)."""
    reduction = _reduction(size_average, reduce, reduction)
    shape = broadcast_shape(input.shape, target.shape)
    if weight is not None:
        broadcast_shape(shape, weight.shape)
    extra = () if weight is None else (weight,)
    # PyTorch composes it: a sum over the classes divided by their count, then reduced
    return reduced_loss(dispatch("multilabel_soft_margin_loss", input, target, *extra,
                                 reduction=reduction),
                        reduction, "DivBackward0", "multilabel_soft_margin_loss")
