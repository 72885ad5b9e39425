"""More loss kernels: L1, smooth L1, Huber, binary cross-entropy (on probabilities and on
logits) and KL divergence. One op per loss, PyTorch's formulas, `reduction` as an attribute."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._table import defop
from .loss import _reduce


def _abs(d):
    # NOTE: d * sign(d) is |d| with PyTorch's gradient at 0 (sign(0) = 0); jnp.abs gives 1 there.
    return d * jax.lax.stop_gradient(jnp.sign(d))


@defop("l1_loss", "reduction", torch_name="torch.nn.functional.l1_loss")
def l1_loss(x, y, *, reduction="mean"):
    return _reduce(_abs(x - y), reduction)


@defop("smooth_l1_loss", "reduction", torch_name="torch.nn.functional.smooth_l1_loss")
def smooth_l1_loss(x, y, *, beta=1.0, reduction="mean"):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is the L1 loss."""
    d = x - y
    if beta == 0.0:  # the quadratic branch would divide by zero (NaN grads through `where`)
        return _reduce(_abs(d), reduction)
    a = _abs(d)
    return _reduce(jnp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction)


@defop("huber_loss", "reduction", torch_name="torch.nn.functional.huber_loss")
def huber_loss(x, y, *, delta=1.0, reduction="mean"):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    d = x - y
    a = _abs(d)
    return _reduce(jnp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


@jax.custom_jvp
def _bce(p, y):
    # NOTE: PyTorch clamps each log at -100 so that p = 0 or 1 gives a finite loss.
    return -(y * jnp.maximum(jnp.log(p), -100.0) + (1.0 - y) * jnp.maximum(jnp.log1p(-p), -100.0))


@_bce.defjvp
def _bce_jvp(primals, tangents):
    # PyTorch's own derivatives: d/dp = (p - y) / max(p (1 - p), 1e-12), d/dy = -logit(p).
    # Autodiff of the clamped logs would give NaN at p = 0 or 1.
    p, y = primals
    dp, dy = tangents
    d_p = (p - y) / jnp.maximum(p * (1.0 - p), 1e-12)
    d_y = jnp.log1p(-p) - jnp.log(p)
    return _bce(p, y), d_p * dp + d_y * dy


@defop("binary_cross_entropy", "reduction", nondiff_inputs=(2,),
       torch_name="torch.nn.functional.binary_cross_entropy")
def binary_cross_entropy(p, y, *weight, reduction="mean"):
    """p: probabilities in [0, 1]; y: targets of p's shape; optional weight broadcast to p."""
    loss = _bce(p, y.astype(p.dtype))
    return _reduce(loss * weight[0] if weight else loss, reduction)


@defop("binary_cross_entropy_with_logits", "reduction", nondiff_inputs=(2, 3),
       torch_name="torch.nn.functional.binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(x, y, *extra, has_weight=False, has_pos_weight=False,
                                     reduction="mean"):
    """Sigmoid + BCE in one stable formula: (1 - y) x + (1 + (pw - 1) y) softplus(-x).
    `extra` is the weight (if `has_weight`) then pos_weight (if `has_pos_weight`)."""
    extra = list(extra)
    weight = extra.pop(0) if has_weight else None
    pos_weight = extra.pop(0) if has_pos_weight else None
    y = y.astype(x.dtype)
    softplus_neg = -jax.nn.log_sigmoid(x)
    if pos_weight is not None:
        loss = (1.0 - y) * x + (1.0 + (pos_weight - 1.0) * y) * softplus_neg
    else:
        loss = (1.0 - y) * x + softplus_neg
    return _reduce(loss if weight is None else loss * weight, reduction)


@defop("kl_div", "reduction", torch_name="torch.nn.functional.kl_div")
def kl_div(x, target, *, reduction="mean", log_target=False):
    """x: log-probabilities. Pointwise target (log target - x), 0 where target is 0;
    'batchmean' divides the sum by the batch size (x.shape[0])."""
    if log_target:
        loss = jnp.exp(target) * (target - x)
    else:
        loss = jax.scipy.special.xlogy(target, target) - target * x
    if reduction == "batchmean":
        total = jnp.sum(loss)
        return total / x.shape[0] if x.ndim else total
    return _reduce(loss, reduction)
