"""Every functional loss (`F.cross_entropy`, `F.mse_loss`, `F.kl_div` ...) with PyTorch's
signatures; re-exported by `functional.py`. Each checks its arguments with the shared helpers
below (reduction, target dtype and shape) and dispatches one op from `graphnet/_ops/loss.py`."""

from __future__ import annotations

import warnings

from .. import _math as M
from .._autocast import autocast_as
from .._dispatch import dispatch
from .._dtype_methods import promote_types
from .._errors import (DtypeError, broadcast_shape, dimension_error, no_dimensions_error,
                       shape_error, type_name)
from .._grad_fn_names_nn import class_loss, reduced_loss
from .._tensor import Tensor
from ._loss_checks import (
    LossOptionError, cast, into_input, not_differentiable, same_dtype_target, same_dtype_weight,
)

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]


# ---- shared argument checks -------------------------------------------------------------------
def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated `size_average`/`reduce` flags win over `reduction` when given;
    the deprecated `reduction='elementwise_mean'` is 'mean', with PyTorch's warning."""
    if size_average is None and reduce is None:
        if reduction == "elementwise_mean":
            warnings.warn("reduction='elementwise_mean' is deprecated. Please use "
                          "reduction='mean' instead.", stacklevel=4)
            return "mean"
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=4)   # as PyTorch, each call
    return reduction


def _reduction(size_average, reduce, reduction: str, allowed=("none", "mean", "sum")) -> str:
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction; use one of {allowed}")
    return reduction


def _same_shape(fn: str, input: Tensor, target: Tensor) -> None:
    # NOTE: PyTorch broadcasts mismatched shapes with a warning; that is nearly always a bug
    # (a [N, 1] prediction against an [N] target), so graphnet refuses it.
    if tuple(input.shape) != tuple(target.shape):
        raise shape_error(f"{fn}: input {list(input.shape)} and target {list(target.shape)} "
                          f"must have the same shape; reshape one, e.g. `target.view_as(input)`")


def _tensor_arguments(kernel: str, input, target) -> None:
    """PyTorch's argument parser refuses labels that are not tensors (a list, a NumPy array,
    an int) before anything reads their shape."""
    for name, position, value in (("input", 1, input), ("target", 2, target)):
        if not isinstance(value, Tensor):
            prefix = f"{kernel}(): " if kernel else ""
            raise TypeError(f"{prefix}argument '{name}' (position {position}) must be Tensor, "
                            f"not {type_name(value)}")


def _batch_sizes(input: Tensor, target: Tensor) -> None:
    """PyTorch's first checks of class-index targets (nll_loss_nd), before any of the target's
    dtype: a 0-d input has no class axis, and a batch's size is the target's first size."""
    _tensor_arguments("", input, target)
    if input.dim() < 1:
        raise shape_error(f"Expected 1 or more dimensions (got {input.dim()})")
    # NOTE: PyTorch counts a 0-d target's batch as 0
    batch = target.shape[0] if target.dim() else 0
    if input.dim() != 1 and batch != input.shape[0]:
        raise shape_error(f"Expected input batch_size ({input.shape[0]}) to match target "
                          f"batch_size ({batch}).")


def _class_target(fn: str, input: Tensor, target: Tensor) -> None:
    """Class indices: integers of the input's shape without its class axis 1."""
    _batch_sizes(input, target)
    if target.dtype.is_floating_point:
        raise DtypeError(
            f"{fn}: target has dtype {target.dtype} and shape {list(target.shape)}; class-index "
            f"targets must be integers (graphnet.int64), e.g. `target.long()`. Float targets are "
            f"accepted only as class probabilities with the input's shape {list(input.shape)}.")
    if target.dtype.name not in ("int64", "uint8"):
        from .._ops._promote import torch_name

        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{torch_name(target.dtype)}")
    if target.dtype.name == "uint8" and input.dim() > 2:   # a spatial target: Long only
        raise RuntimeError("expected scalar type Long but found Byte")
    expected = (input.shape[0],) + tuple(input.shape[2:]) if input.dim() > 1 else ()
    if tuple(target.shape) != expected:
        raise shape_error(f"{fn}: input of shape {list(input.shape)} needs a target of shape "
                          f"{list(expected)}, got {list(target.shape)}")


def _float_target(fn: str, input: Tensor, target: Tensor) -> None:
    """Probabilities: floats of the input's shape."""
    if not target.dtype.is_floating_point:   # a TypeError, and PyTorch's RuntimeError
        raise DtypeError(f"{fn}: target has dtype {target.dtype}; it holds probabilities, so it "
                        f"must be floating point like the input ({input.dtype}): use "
                        f"`target.float()`")
    _same_shape(fn, input, target)


def _with_weight(input: Tensor, target: Tensor, weight: Tensor | None) -> tuple:
    return (input, target) if weight is None else (input, target, weight)


def _class_weight(input: Tensor, weight: Tensor | None, fn: str = "",
                  kernel: str = "") -> Tensor | None:
    """A class weight must hold one entry per class (PyTorch's check; XLA would broadcast a
    wrong one, or read past it, without a word). With `kernel` (class-index targets) it also
    has the input's dtype and no `requires_grad`, as PyTorch's kernel wants."""
    if weight is None:
        return None
    if kernel:
        same_dtype_weight(input, weight)
        not_differentiable(kernel, "weight", weight)
    classes = input.shape[1] if input.dim() > 1 else input.shape[0]
    if weight.dim() != 1 or weight.shape[0] != classes:
        raise RuntimeError(f"{fn + ': ' if fn else ''}weight tensor should be defined either "
                           f"for all {classes} classes or no classes but got weight tensor of "
                           f"shape: {list(weight.shape)}")
    return weight


# ---- classification ---------------------------------------------------------------------------
@autocast_as("float32")   # PyTorch's CPU autocast runs it in float32
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Log-softmax over dim 1 and negative log-likelihood, PyTorch's options included.

    `target` holds class indices ([N] int64 for input [N, C]) or class probabilities (floats of
    the input's shape).

    >>> F.cross_entropy(graphnet.zeros(2, 4), graphnet.tensor([1, 3]))   # log(4)
    tensor(1.3863)
    """
    _tensor_arguments("cross_entropy_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if label_smoothing > 1.0:   # PyTorch takes a negative one as 0 (no smoothing)
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{float(label_smoothing)}")
    label_smoothing = max(float(label_smoothing), 0.0)
    probs = tuple(target.shape) == tuple(input.shape)
    if probs and not target.dtype.is_floating_point:   # PyTorch reads equal shapes as probs
        from .._ops._promote import torch_name

        raise DtypeError(f"Expected floating point type for target with class probabilities, "
                         f"got {torch_name(target.dtype)}")
    if input.dim() == 0:   # no class axis: PyTorch's log_softmax over dim 1 refuses it
        raise no_dimensions_error(1) if probs else dimension_error(1, 0)
    if input.dim() == 1:  # unbatched: [C] with a scalar target (or [C] probabilities)
        loss = cross_entropy(input.unsqueeze(0), target.unsqueeze(0) if probs else
                             target.reshape(1), weight,
                             ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=label_smoothing)
        return class_loss(loss[0] if reduction == "none" else loss.reshape(()), 1, reduction,
                          label_smoothing, probs, unbatched=True)
    if probs:
        if ignore_index >= 0:   # PyTorch's check: no class index can be ignored here
            raise RuntimeError("ignore_index is not supported for floating point target")
        weight = _class_weight(input, weight, "cross_entropy")
        # NOTE: PyTorch computes this case with ordinary tensor ops, so the loss has the
        # promoted dtype of the input, target and weight (float16 logits against float32
        # probabilities give a float32 loss) and the weight gets a gradient.
        dtype = promote_types(input.dtype, target.dtype)
        dtype = dtype if weight is None else promote_types(dtype, weight.dtype)
        return class_loss(dispatch("soft_cross_entropy",
                                   *_with_weight(cast(input, dtype), cast(target, dtype),
                                                 cast(weight, dtype)),
                                   reduction=reduction, label_smoothing=float(label_smoothing)),
                          input.dim(), reduction, probs=True)
    _class_target("cross_entropy", input, target)
    weight = _class_weight(input, weight, kernel="nll_loss_forward")
    return class_loss(dispatch("cross_entropy", *_with_weight(input, target, weight),
                               ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=float(label_smoothing), probs_target=probs),
                      input.dim(), reduction, label_smoothing)


@autocast_as("float32")   # PyTorch's CPU autocast runs it in float32
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices; `input` holds log-probabilities [N, C, ...]
    (or [C] with a scalar target)."""
    _tensor_arguments("nll_loss_nd", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if input.dim() == 1:  # unbatched: [C] with a scalar target
        loss = nll_loss(input.unsqueeze(0), target.reshape(1), weight,
                        ignore_index=ignore_index, reduction=reduction)
        return class_loss(loss[0], 1, reduction, unbatched=True) if reduction == "none" \
            else loss
    _class_target("nll_loss", input, target)
    weight = _class_weight(input, weight, kernel="nll_loss_forward")
    return class_loss(dispatch("nll_loss", *_with_weight(input, target, weight),
                               ignore_index=ignore_index, reduction=reduction),
                      input.dim(), reduction)


@autocast_as("float32")   # PyTorch's CPU autocast runs it in float32
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """BCE on probabilities `input` in [0, 1] against float targets of the same shape and
    dtype; the loss has the input's dtype (a `weight` of another is cast to it)."""
    _float_target("binary_cross_entropy", input, target)
    same_dtype_target(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    into_input(input, weight)
    not_differentiable("binary_cross_entropy", "weight", weight)
    return dispatch("binary_cross_entropy",
                    *_with_weight(input, target, cast(weight, input.dtype)),
                    reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + BCE in one numerically stable op; `pos_weight` weighs positive targets.

    NOTE: PyTorch's kernel builds the loss from the target ((1 - target) * input ...), so the
    loss has the target's dtype: float16 logits against float32 targets give a float32 loss."""
    fn = "binary_cross_entropy_with_logits"
    _float_target(fn, input, target)
    reduction = _reduction(size_average, reduce, reduction)
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        into_input(input, t)
        not_differentiable(fn, name, t)
    extra = [cast(t, target.dtype) for t in (weight, pos_weight) if t is not None]
    return dispatch(fn, cast(input, target.dtype), target, *extra,
                    has_weight=weight is not None, has_pos_weight=pos_weight is not None,
                    reduction=reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise; `input` holds log-probabilities. Use
    reduction='batchmean' for the mathematical KL divergence of a batch."""
    broadcast_shape(target.shape, input.shape)   # PyTorch broadcasts, and does not warn
    if not target.dtype.is_floating_point:   # the input's dtype is checked by dispatch
        raise RuntimeError("kl_div: Integral inputs not supported.")
    reduction = _reduction(size_average, reduce, reduction,
                           allowed=("none", "mean", "sum", "batchmean"))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size. 'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition. 'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    out = dispatch("kl_div", input, target, reduction=reduction, log_target=bool(log_target))
    if reduction == "batchmean":   # PyTorch's Python: the sum over the batch size
        from .._grad_fn_names import renamed

        return renamed(out, "DivBackward0", "kl_div")
    return reduced_loss(out, reduction, "MulBackward0" if log_target else "SubBackward0",
                        "kl_div")


# ---- regression -------------------------------------------------------------------------------
def _weighted(loss: Tensor, input: Tensor, weight: Tensor, reduction: str,
              by_weight: bool) -> Tensor:
    """A per-element `loss` times `weight` (PyTorch 2.13's `weight=` of mse, l1 and huber),
    reduced: `mean` divides by the weights' sum (mse, l1) or by the element count (huber),
    as PyTorch's Python code does."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return M.sum(loss)
    return M.sum(loss) / M.sum(weight) if by_weight else M.mean(loss)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """mean/sum/none of (input - target)^2 (times `weight`, per element, if given)."""
    _same_shape("mse_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted(dispatch("mse_loss", input, target, reduction="none"), input, weight,
                         reduction, by_weight=True)
    return dispatch("mse_loss", input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """mean/sum/none of |input - target| (times `weight`, per element, if given)."""
    _same_shape("l1_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted(dispatch("l1_loss", input, target, reduction="none"), input, weight,
                         reduction, by_weight=True)
    # PyTorch's l1_loss is |input - target| reduced by ordinary ops
    return reduced_loss(dispatch("l1_loss", input, target, reduction=reduction), reduction,
                        "AbsBackward0", "l1_loss")


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic for |input - target| < beta, linear beyond (L1 when beta = 0)."""
    if beta < 0:
        raise LossOptionError(f"smooth_l1_loss does not support negative values for beta, "
                              f"got {beta}")
    _same_shape("smooth_l1_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    return dispatch("smooth_l1_loss", input, target, beta=float(beta), reduction=reduction)


def in_input_dtype(op: str, input: Tensor, target: Tensor, reduction: str, **attrs) -> Tensor:
    """Loss `op` as PyTorch's huber and soft-margin kernels write it: the elements computed in
    the promoted dtype, rounded into a tensor of the input's dtype, then reduced (a float32
    prediction against a float64 target gives a float32 loss, not float64)."""
    if target.dtype == input.dtype:
        return dispatch(op, input, target, reduction=reduction, **attrs)
    loss = dispatch(op, input, target, reduction="none", **attrs).to(input.dtype)
    if reduction == "none":
        return loss
    return M.sum(loss) if reduction == "sum" else M.mean(loss)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """Quadratic for |input - target| < delta, delta-scaled linear beyond (times `weight`,
    per element, if given)."""
    if delta <= 0:
        raise LossOptionError(f"huber_loss does not support non-positive values for delta, "
                              f"got {delta}")
    _same_shape("huber_loss", input, target)
    reduction = _reduction(None, None, reduction)
    if weight is not None:
        return _weighted(in_input_dtype("huber_loss", input, target, "none",
                                        delta=float(delta)), input, weight, reduction,
                         by_weight=False)
    return in_input_dtype("huber_loss", input, target, reduction, delta=float(delta))
