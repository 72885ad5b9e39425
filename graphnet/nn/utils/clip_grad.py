"""Gradient clipping, as `torch.nn.utils` has it: by the joint norm of all grads, or by value.

The functions are tensor ops on `.grad` under no_grad, so they run eagerly and inside a
compiled training step alike (the scaled grads are written back like any other in-place
update).

>>> loss.backward()
>>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
>>> opt.step()
"""

from __future__ import annotations

import math
import types
import warnings

from ... import _factories as fac
from ... import _math as M
from ..._autograd import no_grad
from ..._errors import TraceError
from ..._tensor import Tensor

__all__ = ["get_total_norm", "clip_grads_with_norm_", "clip_grad_norm_", "clip_grad_norm",
           "clip_grad_value_"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


# PyTorch's names of the dtypes linalg.vector_norm refuses, for its message
_TORCH_INT_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                    "uint8": "Byte", "bool": "Bool"}


def _vector_norm(x: Tensor, p: float) -> Tensor:
    """torch.linalg.vector_norm of all elements (no gradient is needed here); half precision
    in float32, rounded once, as PyTorch."""
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_TORCH_INT_NAMES.get(x.dtype.name, x.dtype.name)}")
    if x.numel() == 0 and (p < 0 or p == math.inf):
        # max, min and a negative power have no value for no elements (PyTorch's refusal)
        raise RuntimeError(f"linalg.vector_norm cannot compute the {p:g} norm on an empty "
                           f"tensor because the operation does not have an identity")
    if x.dtype.name in ("float16", "bfloat16"):
        return _vector_norm(x.float(), p).to(x.dtype)
    x = x.abs()
    if p == math.inf:
        return x.max()
    if p == -math.inf:
        return x.min()
    if p == 0:
        return (x != 0).sum().to(x.dtype)
    if p == 1:
        return x.sum()
    if p == 2:
        return x.square().sum().sqrt()
    return x.pow(p).sum().pow(1.0 / p)


def _is_nonfinite(total: Tensor) -> bool:
    try:
        return bool(total.isnan() | total.isinf())
    except TraceError as error:
        raise TraceError(
            "clip_grad_norm_/get_total_norm(error_if_nonfinite=True) must read the norm's value "
            "to decide whether to raise, which a compiled (static) step does not have. Inside "
            "graphnet.compile pass error_if_nonfinite=False and check the returned norm "
            "(torch.isfinite(norm)) outside the compiled function.") from error


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The `norm_type`-norm of the norms of `tensors`, i.e. of all their elements together.
    An empty list gives tensor(0.)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return fac.tensor(0.0)
    for i, t in enumerate(tensors):     # `[p.grad for p in params]` with a grad still None
        if t is None:
            raise RuntimeError(f"Tensors of the first list of nested Tensor lists are supposed "
                               f"to be defined but the {i}-th Tensor is not.")
    with no_grad():
        norms = [_vector_norm(t.detach(), norm_type) for t in tensors]
        total = _vector_norm(M.stack(norms), norm_type)
    if error_if_nonfinite and _is_nonfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach=None) -> None:
    """Scale every `.grad` in place by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    # a tensor max_norm stays one, as in torch (float() of a compiled step's argument fails)
    max_norm = max_norm if isinstance(max_norm, Tensor) else float(max_norm)
    if not grads:
        return
    with no_grad():
        scale = max_norm / (total_norm + 1e-6)
        if not isinstance(scale, Tensor):
            # NOTE: `clip_grads_with_norm_(params, 1.0, 5.0)` failed with "'float' object has
            # no attribute 'clamp'"; torch's clamp refuses the number with a TypeError.
            raise TypeError(f"clamp() received an invalid combination of arguments - got "
                            f"({type(scale).__name__}, max=float), but expected a Tensor: "
                            f"total_norm must be a Tensor (as get_total_norm returns), got "
                            f"{type(total_norm).__name__} {total_norm!r}")
        scale = scale.clamp(max=1.0)
        for g in grads:
            g.mul_(scale)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale the grads in place so that their joint `norm_type`-norm is at most `max_norm`;
    return the norm before clipping. Like PyTorch: the scale is `max_norm / (norm + 1e-6)`,
    capped at 1, so grads already within the bound are multiplied by 1."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Deprecated alias of `clip_grad_norm_` (a FutureWarning, as in PyTorch)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every grad element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in [p.grad for p in _as_list(parameters) if p.grad is not None]:
            g.clamp_(min=-clip_value, max=clip_value)
