"""`torch.distributions.utils`: the helpers user-written distributions import: parameters
broadcast together, probabilities and logits converted, a property computed once."""

from __future__ import annotations

import functools
from numbers import Number

from .._default_dtype import get_default_dtype
from .._factories import as_tensor
from .._tensor import Tensor
from ._lkj import tril_matrix_to_vec, vec_to_tril_matrix
from ._params import _broadcast, _clamp_probs

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits", "tril_matrix_to_vec", "vec_to_tril_matrix"]


def broadcast_all(*values) -> tuple:
    """Tensors and numbers broadcast to one shape. Numbers become tensors of the first
    tensor's dtype (of the default dtype when all are numbers)."""
    for value in values:
        if not isinstance(value, (Tensor, Number)) and \
                not hasattr(value, "__torch_function__"):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "torch.Tensor or objects implementing __torch_function__.")
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else get_default_dtype()
    made = [v if isinstance(v, Tensor) else as_tensor(v, dtype=dtype) for v in values]
    return tuple(_broadcast(*made))


def clamp_probs(probs: Tensor) -> Tensor:
    """`probs` kept inside (eps, 1 - eps) of its dtype, so their logarithms stay finite."""
    return _clamp_probs(probs)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: a sigmoid for one binary event, else a softmax over the
    last dimension."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped first): log-odds for a binary event, else
    log-probabilities."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:
    """A property computed on first access and then stored on the instance, so later reads
    are plain attribute reads (PyTorch's distributions derive `probs` from `logits` so)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
