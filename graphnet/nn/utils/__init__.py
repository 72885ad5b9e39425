"""`graphnet.nn.utils`: gradient clipping, as `torch.nn.utils` has it.

Both functions are tensor ops on `.grad`, so they run eagerly and inside a compiled training
step alike (the scaled grads are written back like any other in-place update).

>>> loss.backward()
>>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
>>> opt.step()
"""

from __future__ import annotations

import math

from ..._autograd import no_grad
from ..._tensor import Tensor
from . import rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale the grads in place so that their joint `norm_type`-norm is at most `max_norm`;
    return the norm before clipping. Like PyTorch: the scale is `max_norm / (norm + 1e-6)`,
    capped at 1, so grads already within the bound are multiplied by 1."""
    import graphnet

    grads = _grads(parameters)
    if not grads:
        return graphnet.tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        if math.isinf(norm_type):
            norms = [g.detach().abs().max() for g in grads]
            total = norms[0] if len(norms) == 1 else graphnet.stack(norms).max()
        else:
            norms = [g.detach().norm(norm_type) for g in grads]
            total = graphnet.stack(norms).norm(norm_type)
        if error_if_nonfinite and bool(total.isnan() | total.isinf()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                               f"`parameters` is non-finite, so it cannot be clipped. To "
                               f"disable this error and scale the gradients by the non-finite "
                               f"norm anyway, set `error_if_nonfinite=False`")
        scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every grad element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-clip_value, max=clip_value)
