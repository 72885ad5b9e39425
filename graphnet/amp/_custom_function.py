"""`custom_fwd` / `custom_bwd`: decorators for the forward and backward of a custom
`graphnet.autograd.Function` under autocast, as torch.amp has them.

`custom_fwd(device_type="cpu")` notes whether the forward ran in an autocast region (and in
which dtype); `custom_bwd(device_type="cpu")` runs the backward in that same state, so its
ops cast as the forward's did. With `cast_inputs=graphnet.float32` the forward, inside a
region, gets its floating inputs cast to that dtype and runs with autocast off.

>>> class Scale(graphnet.autograd.Function):
...     @staticmethod
...     @graphnet.amp.custom_fwd(device_type="cpu", cast_inputs=graphnet.float32)
...     def forward(ctx, x): return x * 2
...     @staticmethod
...     @graphnet.amp.custom_bwd(device_type="cpu")
...     def backward(ctx, g): return g * 2
"""

from __future__ import annotations

import collections.abc
import functools

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled

__all__ = ["custom_fwd", "custom_bwd"]


def _cast(value, device_type: str, dtype):
    """`value` with its floating tensors (not float64, on `device_type`) cast to `dtype`,
    through lists, tuples, dicts and other iterables, as PyTorch's `_cast`."""
    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type \
            and value.dtype is not dt.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype)
                for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        cast = (_cast(v, device_type, dtype) for v in value)
        return type(value)(cast) if isinstance(value, (list, tuple)) else cast
    return value


def _check_device_type(device_type) -> None:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a custom Function's `forward(ctx, ...)`: record the autocast state for
    `custom_bwd`; with `cast_inputs`, inside a region, cast the floating inputs to it and
    run the forward with autocast off. Outside a region it changes nothing."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        args[0]._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs),
                       **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom Function's `backward(ctx, ...)`: run it in the autocast state its
    `custom_fwd` forward recorded."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast,
                      dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
