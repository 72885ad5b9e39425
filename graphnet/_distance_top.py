"""PyTorch's top-level distance and loss functions (`torch.cdist`, `torch.dist`,
`torch.cosine_similarity`, `torch.margin_ranking_loss` ...) and `Tensor.dist`.

The distances are the functions of graphnet/nn/functional_distance.py. The losses are
PyTorch's ATen entry points, whose signatures differ from nn.functional's: `reduction` is an
int (1 mean, 2 sum, anything else none), and torch 2.13 leaves it at none (0) when it is not
given, so `torch.margin_ranking_loss(a, b, y)` returns one loss per element. graphnet keeps
those runtime semantics; nn.functional's versions (reduction='mean') are unchanged.

>>> torch.hinge_embedding_loss(torch.tensor([0.3, 2.0]), torch.tensor([1.0, -1.0]), 1.0, 2)
tensor(0.3000)
"""

from __future__ import annotations

from ._dispatch import dispatch
from ._tensor import Tensor
from .nn import functional_loss as FL
from .nn import functional_loss_extra as FX
from .nn.functional_distance import (
    broadcast_shape, cdist, cosine_similarity, dist, pairwise_distance, pdist,
)

__all__ = [
    "cdist", "cosine_similarity", "dist", "pairwise_distance", "pdist",
    "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss", "ctc_loss",
    "hinge_embedding_loss", "margin_ranking_loss", "poisson_nll_loss", "triplet_margin_loss",
]

Tensor.dist = dist


def _enum(fn: str, reduction) -> str:
    """ATen's reduction enum: 1 mean, 2 sum, any other int none."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{fn}(): argument 'reduction' must be int, not "
                        f"{type(reduction).__name__}")
    return {1: "mean", 2: "sum"}.get(reduction, "none")


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *,
           log_target: bool = False) -> Tensor:
    """torch.kl_div: F.kl_div with an int reduction (none unless given)."""
    return FL.kl_div(input, target, reduction=_enum("kl_div", reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None,
                                     pos_weight=None, reduction: int = 0) -> Tensor:
    """torch.binary_cross_entropy_with_logits: int reduction, none unless given."""
    return FL.binary_cross_entropy_with_logits(
        input, target, weight, pos_weight=pos_weight,
        reduction=_enum("binary_cross_entropy_with_logits", reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    """torch.margin_ranking_loss: F.margin_ranking_loss's formula, int reduction."""
    broadcast_shape(broadcast_shape(input1.shape, input2.shape), target.shape)
    return dispatch("margin_ranking_loss", input1, input2, target, margin=float(margin),
                    reduction=_enum("margin_ranking_loss", reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: int = 0) -> Tensor:
    """torch.hinge_embedding_loss: int reduction, none unless given."""
    return FX.hinge_embedding_loss(input, target, margin,
                                   reduction=_enum("hinge_embedding_loss", reduction))


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    """torch.cosine_embedding_loss: int reduction, none unless given."""
    return FX.cosine_embedding_loss(input1, input2, target, margin,
                                    reduction=_enum("cosine_embedding_loss", reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, reduction: int = 0) -> Tensor:
    """torch.triplet_margin_loss: int reduction, none unless given; unlike
    F.triplet_margin_loss it accepts any margin, as ATen does."""
    FX._same_dims(anchor, positive, negative)
    broadcast_shape(broadcast_shape(anchor.shape, positive.shape), negative.shape)
    return dispatch("triplet_margin_loss", anchor, positive, negative, margin=float(margin),
                    p=float(p), eps=float(eps), swap=bool(swap),
                    reduction=_enum("triplet_margin_loss", reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    """torch.poisson_nll_loss: every argument required, int reduction."""
    return FX.poisson_nll_loss(input, target, log_input, full, eps=eps,
                               reduction=_enum("poisson_nll_loss", reduction))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """torch.ctc_loss: F.ctc_loss with an int reduction (none unless given)."""
    return FX.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                       _enum("ctc_loss", reduction), zero_infinity)
