"""The rest of torch.nn.functional's losses, with PyTorch's signatures and argument checks:
margin and embedding losses, Poisson and Gaussian likelihoods, CTC, and the triplet loss with
any distance function. Each dispatches one op of graphnet/_ops/loss_extra.py (CTC:
graphnet/_ops/ctc.py); value checks on those ops (class labels, lengths, negative variances)
raise PyTorch's errors in eager and compiled calls alike. The distances are in
functional_distance.py and re-exported here.

>>> F.margin_ranking_loss(torch.tensor([2.0]), torch.tensor([1.0]), torch.tensor([1.0]))
tensor(0.)
"""

from __future__ import annotations

from .._autograd import is_grad_enabled
from .._dispatch import dispatch
from .._grad_fn_names_nn import reduced_loss
from .._tensor import Tensor
from .functional_distance import (
    as_float, broadcast_shape, cosine_similarity, pairwise_distance, pdist,
)
from .functional_loss import _reduction, in_input_dtype
from .functional_linear_ce import linear_cross_entropy
from .functional_loss_ctc import ctc_loss
from .functional_loss_margin import (
    multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss,
)

__all__ = [
    "cosine_similarity", "pairwise_distance", "pdist",
    "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "multi_margin_loss", "multilabel_margin_loss", "ctc_loss", "linear_cross_entropy",
]


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -target (input1 - input2) + margin); target 1 ranks input1 first, -1 input2."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    broadcast_shape(broadcast_shape(input1.shape, input2.shape), target.shape)
    # NOTE: PyTorch composes these losses from ordinary ops: their nodes are the mean or sum,
    # or with reduction='none' the formula's last op (here a clamp_min)
    return reduced_loss(dispatch("margin_ranking_loss", input1, input2, target,
                                 margin=float(margin), reduction=reduction),
                        reduction, "ClampMinBackward0", "margin_ranking_loss")


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    broadcast_shape(input.shape, target.shape)
    return reduced_loss(dispatch("hinge_embedding_loss", input, target, margin=float(margin),
                                 reduction=reduction),
                        reduction, "AddBackward0", "hinge_embedding_loss")


def _into_input(fn: str, input: Tensor, target: Tensor) -> None:
    """PyTorch writes these losses into a tensor of the input's shape."""
    shape = broadcast_shape(input.shape, target.shape)
    if shape != tuple(input.shape):
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-target input)), targets 1 or -1."""
    reduction = _reduction(size_average, reduce, reduction)
    _into_input("soft_margin_loss", input, target)
    if target.requires_grad and is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect "
                           "to argument 'target'. This input cannot have requires_grad True.")
    return in_input_dtype("soft_margin_loss", input, target, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1; rows
    of [N, D] inputs with an [N] target, or [D] inputs with a 0-d target."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.dim() not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if target.dim() == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(
            f"{target.dim()}D target tensor expects {want}D input tensors, but found inputs "
            f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    rows = broadcast_shape(input1.shape, input2.shape)
    broadcast_shape(rows[:target.dim()], target.shape)
    return reduced_loss(dispatch("cosine_embedding_loss", input1, input2, target,
                                 margin=float(margin), reduction=reduction),
                        reduction, "AddBackward0", "cosine_embedding_loss")


def _same_dims(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not a == p == n:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with the pairwise p-norm
    distance d; `swap` takes the smaller of d(anchor, negative) and d(positive, negative)."""
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_dims(anchor, positive, negative)
    broadcast_shape(broadcast_shape(anchor.shape, positive.shape), negative.shape)
    return reduced_loss(dispatch("triplet_margin_loss", anchor, positive, negative,
                                 margin=float(margin), p=float(p), eps=float(eps),
                                 swap=bool(swap), reduction=reduction),
                        reduction, "ClampMinBackward0", "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """The triplet margin loss with any `distance_function(x, y) -> Tensor` (default
    `pairwise_distance`); it runs as ordinary graphnet code, so it traces in compiled calls.

    >>> F.triplet_margin_with_distance_loss(a, p, n,
    ...     distance_function=lambda x, y: 1 - F.cosine_similarity(x, y))
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_dims(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    loss = (margin + d_pos - d_neg).clamp(min=0)
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if reduction == "mean" else loss


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: exp(input) - target input for a log-rate input
    (`log_input`), else input - target log(input + eps); `full` adds Stirling's term."""
    reduction = _reduction(size_average, reduce, reduction)
    broadcast_shape(input.shape, target.shape)
    return reduced_loss(dispatch("poisson_nll_loss", input, target, log_input=bool(log_input),
                                 full=bool(full), eps=float(eps), reduction=reduction),
                        reduction, "AddBackward0" if full else "SubBackward0", "poisson_nll_loss")


def _var_shape(input: Tensor, var: Tensor) -> Tensor:
    """PyTorch's rules for var: the input's shape, one dim short of it (unsqueezed), or the
    input's rank with exactly one dimension of size 1 where the input's differs."""
    in_shape, var_shape = tuple(input.shape), tuple(var.shape)
    if var_shape == in_shape:
        return var
    if in_shape[:-1] == var_shape:
        return var.unsqueeze(-1)
    if len(in_shape) == len(var_shape) and \
            sum(v for i, v in zip(in_shape, var_shape) if i != v) == 1:
        return var
    raise ValueError("var is of incorrect size")


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log var + (input - target)^2 / var), var clamped at eps for stability (its
    gradient is not clamped); `full` adds 0.5 log(2 pi). `var` is a tensor (one variance per
    input, or one per row: see `_var_shape`) or a non-negative float."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        from .._factories import full as _full
        var = _full(tuple(input.shape), var, dtype=input.dtype)
    elif not isinstance(var, Tensor):
        raise TypeError(f"gaussian_nll_loss(): var must be a Tensor or a float, not "
                        f"{type(var).__name__}")
    var = _var_shape(input, var)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    broadcast_shape(broadcast_shape(input.shape, target.shape), var.shape)
    return reduced_loss(dispatch("gaussian_nll_loss", as_float(input), target, var,
                                 full=bool(full), eps=float(eps), reduction=reduction),
                        reduction, "AddBackward0" if full else "MulBackward0",
                        "gaussian_nll_loss")
