"""Loss kernels. Each is one op so the IR stays readable (one `cross_entropy` line, not ten)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._checks import first_where
from ._table import ValueCheck, defop


def _reduce(loss, reduction, weight_sum=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return jnp.sum(loss)
    return jnp.sum(loss) / weight_sum if weight_sum is not None else jnp.mean(loss)


def _class_targets(scores, target, *weight, ignore_index=-100, probs_target=False, **_):
    """Every label is ignore_index or a class in [0, C): JAX would clamp -1 to class 0."""
    if probs_target:   # class probabilities, not labels
        return False, ()
    outside = (target != ignore_index) & ((target < 0) | (target >= scores.shape[1]))
    bad, value = first_where(outside, target)
    return bad, (value,)


CLASS_TARGETS = ValueCheck(
    _class_targets, lambda facts, **_: IndexError(f"Target {facts[0]} is out of bounds."))


@defop("cross_entropy", "reduction", nondiff_inputs=(1, 2),
       torch_name="torch.nn.functional.cross_entropy", check=CLASS_TARGETS)
def cross_entropy(logits, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0, probs_target=False):
    """Class dim is 1 (PyTorch layout): logits [N, C, ...], integer target [N, ...]."""
    logp = jax.nn.log_softmax(logits, axis=1)
    n_classes = logits.shape[1]
    w = jnp.ones((n_classes,), logits.dtype) if weight is None else weight.astype(logits.dtype)
    wshape = (1, n_classes) + (1,) * (logits.ndim - 2)
    if probs_target:  # target holds class probabilities, same shape as logits
        target = target.astype(logits.dtype)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        return _reduce(-jnp.sum(logp * target * w.reshape(wshape), axis=1), reduction)
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    picked = jnp.take_along_axis(logp, jnp.expand_dims(safe, 1), axis=1).squeeze(1)
    w_t = jnp.where(valid, w[safe], 0.0)
    nll = -picked * w_t
    if label_smoothing:
        smooth = -jnp.sum(logp * w.reshape(wshape), axis=1) * valid
        nll = (1 - label_smoothing) * nll + label_smoothing / n_classes * smooth
    return _reduce(nll, reduction, jnp.sum(w_t))


@defop("nll_loss", "reduction", nondiff_inputs=(1, 2), check=CLASS_TARGETS)
def nll_loss(logp, target, weight=None, *, ignore_index=-100, reduction="mean"):
    n_classes = logp.shape[1]
    w = jnp.ones((n_classes,), logp.dtype) if weight is None else weight.astype(logp.dtype)
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    picked = jnp.take_along_axis(logp, jnp.expand_dims(safe, 1), axis=1).squeeze(1)
    w_t = jnp.where(valid, w[safe], 0.0)
    return _reduce(-picked * w_t, reduction, jnp.sum(w_t))


@defop("mse_loss", "reduction")
def mse_loss(x, y, *, reduction="mean"):
    return _reduce(jnp.square(x - y), reduction)
