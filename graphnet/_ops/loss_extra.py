"""The rest of torch.nn's losses, one op each: margin and embedding losses (margin ranking,
hinge embedding, cosine embedding, triplet margin, soft margin, multi-label soft margin,
multi-class margin, multi-label margin) and likelihoods (Poisson, Gaussian). PyTorch's
formulas, in its order of operations, so values and gradients match at ties too:
`clamp_min(z, 0)` passes the gradient where z >= 0, as PyTorch's clamp does.

Importing this module also registers the distance kernels (distance.py) and CTC (ctc.py).
The user-facing functions are in graphnet/nn/functional_loss_extra.py."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from . import ctc, distance  # noqa: F401  (registration)
from ._checks import first_where
from ._table import ValueCheck, defop
from .distance import clamp_value_keep_grad, vector_norm
from .loss import _reduce

FN = "nn.functional."


def _clamp_min0(z):
    # PyTorch's clamp_min(0): a NaN stays NaN (the loss must show it), with gradient 0 there
    return jnp.where(z >= 0, z, jnp.where(jnp.isnan(z), jax.lax.stop_gradient(z), 0))


@defop("margin_ranking_loss", "reduction", function=("margin_ranking_loss",
       FN + "margin_ranking_loss"), method=None)
def margin_ranking_loss(x1, x2, y, *, margin=0.0, reduction="mean"):
    """max(0, -y (x1 - x2) + margin): y = 1 wants x1 ranked higher, y = -1 x2."""
    return _reduce(_clamp_min0(-y * (x1 - x2) + margin), reduction)


@defop("hinge_embedding_loss", "reduction", nondiff_inputs=(1,), function=("hinge_embedding_loss",
       FN + "hinge_embedding_loss"), method=None)
def hinge_embedding_loss(x, y, *, margin=1.0, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1 (both terms for any other y)."""
    zero = jnp.zeros_like(x)
    loss = jnp.where(y != 1, _clamp_min0(margin - x), zero) + jnp.where(y != -1, x, zero)
    return _reduce(loss, reduction)


@defop("soft_margin_loss", "reduction", nondiff_inputs=(1,), function=FN + "soft_margin_loss",
       method=None)
def soft_margin_loss(x, y, *, reduction="mean"):
    """log(1 + exp(-y x)), PyTorch's unguarded formula (inf where -y x overflows)."""
    return _reduce(_soft_margin_terms(x, y), reduction)


@jax.custom_jvp
def _soft_margin_terms(x, y):
    return jnp.log1p(jnp.exp(-x * y))


@_soft_margin_terms.defjvp
def _soft_margin_terms_jvp(primals, tangents):
    # NOTE: PyTorch's derivative, -y z / (1 + z) with z = exp(-y x). JAX's own, through
    # log1p, first forms g / (1 + z): subnormal for a confident wrong prediction (y x below
    # about -80 under a mean), flushed to 0 on the CPU, so that element's gradient was 0
    (x, y), (dx, _) = primals, tangents
    z = jnp.exp(-x * y)
    return jnp.log1p(z), -y * z / (1 + z) * dx


@defop("multilabel_soft_margin_loss", "reduction",
       function=FN + "multilabel_soft_margin_loss", method=None)
def multilabel_soft_margin_loss(x, y, *weight, reduction="mean"):
    """Per-class binary logistic loss, averaged over the classes (the last dim). The target
    and weight get gradients, as PyTorch's Python formula gives them."""
    loss = -(y * jax.nn.log_sigmoid(x) + (1 - y) * jax.nn.log_sigmoid(-x))
    if weight:
        loss = loss * weight[0]
    class_dim = x.ndim - 1
    loss = jnp.sum(loss, axis=class_dim) / x.shape[class_dim]
    return _reduce(loss, reduction)


@defop("cosine_embedding_loss", "reduction", nondiff_inputs=(2,),
       function=("cosine_embedding_loss", FN + "cosine_embedding_loss"), method=None)
def cosine_embedding_loss(x1, x2, y, *, margin=0.0, reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos - margin) where y = -1 (0 elsewhere)."""
    dim = y.ndim   # 1-D target: rows of 2-D inputs; 0-d target: 1-D inputs
    eps = 1e-12
    dot = jnp.sum(x1 * x2, axis=dim)
    mag1 = jnp.sum(x1 * x1, axis=dim) + eps
    mag2 = jnp.sum(x2 * x2, axis=dim) + eps
    cos = dot / jnp.sqrt(mag1 * mag2)
    zero = jnp.zeros_like(cos)
    loss = jnp.where(y == 1, 1 - cos, zero) + jnp.where(y == -1, _clamp_min0(cos - margin), zero)
    return _reduce(loss, reduction)


def _pairwise(x1, x2, p, eps):
    d = x1 - x2 + eps
    return vector_norm(d, p, d.ndim - 1, False) if d.ndim else vector_norm(d[None], p, 0)


@defop("triplet_margin_loss", "reduction", function=("triplet_margin_loss",
       FN + "triplet_margin_loss"), method=None)
def triplet_margin_loss(a, pos, neg, *, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction="mean"):
    """max(0, margin + d(a, pos) - d(a, neg)), d the pairwise distance; `swap` uses
    min(d(a, neg), d(pos, neg)) as the negative distance."""
    d_pos, d_neg = _pairwise(a, pos, p, eps), _pairwise(a, neg, p, eps)
    if swap:
        d_neg = jnp.minimum(d_neg, _pairwise(pos, neg, p, eps))
    return _reduce(_clamp_min0(margin + d_pos - d_neg), reduction)


@defop("poisson_nll_loss", "reduction", function=("poisson_nll_loss",
       FN + "poisson_nll_loss"), method=None)
def poisson_nll_loss(x, y, *, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """exp(x) - y x (x a log-rate), or x - y log(x + eps); `full` adds Stirling's term for
    targets above 1."""
    loss = jnp.exp(x) - y * x if log_input else x - y * jnp.log(x + eps)
    if full:
        # NOTE: unguarded like PyTorch's, whose target gradient is NaN at a target of 0.
        stirling = y * jnp.log(y) - y + 0.5 * jnp.log(2 * math.pi * y)
        loss = loss + jnp.where(y <= 1, 0, stirling)
    return _reduce(loss, reduction)


def _negative_var(x, y, var, **_):
    bad, _value = first_where(var < 0, var < 0)
    return bad, ()


@defop("gaussian_nll_loss", "reduction", check=ValueCheck(
           _negative_var, lambda facts, **_: ValueError("var has negative entry/entries"),
           values_from=2),
       function=FN + "gaussian_nll_loss", method=None)
def gaussian_nll_loss(x, y, var, *, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (x - y)^2 / var), var clamped at eps (its gradient passes unclamped,
    as PyTorch clamps it in place under no_grad)."""
    var = clamp_value_keep_grad(var, eps)
    loss = 0.5 * (jnp.log(var) + (x - y) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _class_range(x, target, *weight, **_):
    bad, value = first_where((target < 0) | (target >= x.shape[-1]), target)
    return bad, (value,)


@defop("multi_margin_loss", "reduction", nondiff_inputs=(1, 2),
       check=ValueCheck(_class_range, lambda facts, **_: RuntimeError("target out of range")),
       function=FN + "multi_margin_loss", method=None)
def multi_margin_loss(x, target, *weight, p=1, margin=1.0, reduction="mean"):
    """x [N, C], target [N]: sum over classes j != y of max(0, margin - x[y] + x[j])^p,
    times weight[y], over C."""
    n_classes = x.shape[-1]
    picked = jnp.take_along_axis(x, target[:, None], axis=1)
    z = margin - picked + x
    h = jnp.where(z > 0, z if p == 1 else z * z, 0)
    if weight:
        h = h * weight[0].astype(x.dtype)[target][:, None]
    others = jnp.arange(n_classes)[None, :] != target[:, None]
    return _reduce(jnp.sum(jnp.where(others, h, 0), axis=1) / n_classes, reduction)


def _label_range(x, target, **_):
    bad, value = first_where((target < -1) | (target >= x.shape[-1]), target)
    return bad, (value,)


@defop("multilabel_margin_loss", "reduction", nondiff_inputs=(1,),
       check=ValueCheck(_label_range, lambda facts, **_: RuntimeError(
           "argument #2 'target' is out of range")),
       function=FN + "multilabel_margin_loss", method=None)
def multilabel_margin_loss(x, target, *, reduction="mean"):
    """x, target [N, C]: each row's targets are its class indices up to the first -1; the
    loss sums max(0, 1 - (x[target j] - x[i])) over targets j and non-targets i, over C."""
    n_classes = x.shape[-1]
    listed = jnp.cumprod(target != -1, axis=1).astype(bool)         # before the first -1
    safe = jnp.where(listed, target, 0)
    classes = jnp.arange(n_classes)
    is_target = jnp.any(listed[:, :, None] & (safe[:, :, None] == classes), axis=1)  # [N, C]
    x_target = jnp.take_along_axis(x, safe, axis=1)                 # [N, C] by slot j
    z = 1 - (x_target[:, :, None] - x[:, None, :])                  # [N, slot j, class i]
    keep = listed[:, :, None] & ~is_target[:, None, :] & (z > 0)
    loss = jnp.sum(jnp.where(keep, z, 0), axis=(1, 2)) / n_classes
    return _reduce(loss, reduction)


def _adaptive_targets(full, target, **_):
    """Every target a class of the full distribution; PyTorch reports the targets' range."""
    bad = ((target < 0) | (target >= full.shape[1])).any()
    if target.size == 0:
        return bad, ()
    return bad, (target.min(), target.max())


def _adaptive_error(facts, *, n_classes, **_):
    return RuntimeError(f"Target values should be in [0, {n_classes - 1}], but values in "
                        f"range [{facts[0]}, {facts[1]}] were found. ")


@defop("adaptive_log_softmax_target", "opaque", nondiff_inputs=(1,),
       check=ValueCheck(_adaptive_targets, _adaptive_error), function=None, method=None)
def adaptive_log_softmax_target(full, target, *, n_classes):
    """The log-probability of each row's target class, from the full [N, n_classes] table
    (AdaptiveLogSoftmaxWithLoss: a gather whose bad targets raise PyTorch's error)."""
    return jnp.take_along_axis(full, target[:, None], axis=1)[:, 0]
