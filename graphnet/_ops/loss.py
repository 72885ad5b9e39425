"""Loss kernels. Each is one op so the IR stays readable (one `cross_entropy` line, not ten)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._table import defop


def _reduce(loss, reduction, weight_sum=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return jnp.sum(loss)
    return jnp.sum(loss) / weight_sum if weight_sum is not None else jnp.mean(loss)


@defop("cross_entropy", "reduction", nondiff_inputs=(1, 2),
       torch_name="torch.nn.functional.cross_entropy")
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


@defop("nll_loss", "reduction", nondiff_inputs=(1, 2))
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
