"""Parameter helpers shared by the distributions: broadcasting parameters together, Python
numbers as tensors, clamping probabilities away from 0 and 1, normalising probs/logits."""

from __future__ import annotations

from .._errors import broadcast_shape
from .._factories import as_tensor
from .._settings import finfo
from .._tensor import Tensor


def _broadcast(*tensors) -> list[Tensor]:
    shape = broadcast_shape(*(t.shape for t in tensors))
    return [t if tuple(t.shape) == shape else t.expand(*shape) for t in tensors]


def _t(value, like=None) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return as_tensor(float(value)) if like is None else as_tensor(float(value), dtype=like.dtype)


def _eps(t: Tensor) -> float:
    """The machine epsilon of t's floating dtype, as PyTorch's clamp_probs takes it (float16
    and bfloat16 had float64's, which rounds to 0 there: a probability of 0 made an infinite
    logit and a NaN log_prob)."""
    return finfo(t.dtype).eps


def _clamp_probs(p: Tensor) -> Tensor:
    eps = _eps(p)
    return p.clamp(min=eps, max=1 - eps)


def _normalised(probs=None, logits=None, what="Categorical"):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    if probs is not None:
        probs = probs / probs.sum(-1, keepdim=True)
        return probs, _clamp_probs(probs).log()
    logits = logits - logits.logsumexp(-1, keepdim=True)
    return logits.softmax(-1), logits
