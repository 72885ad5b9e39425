"""`autocast` and the `torch.*autocast*` state functions, as torch 2.13 has them.

The state lives in graphnet/_autocast.py, which `dispatch` reads; the per-op casting rules
are there too. What casts: an enabled "cpu" region on graphnet's CPU backend. "cuda" without a
GPU warns and disables itself, as PyTorch does; other device types only record their flag
(no tensor lives there, so PyTorch would cast nothing either).

>>> with graphnet.autocast("cpu", dtype=graphnet.bfloat16):
...     y = model(x)            # Linear runs in bfloat16
...     loss = F.mse_loss(y, t)  # a loss runs in float32
"""

from __future__ import annotations

import functools
import warnings

from .. import _autocast
from .. import _dtype as dt
from .._errors import type_name as _type_name

_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
_AVAILABLE = ("cpu", "cuda", "xpu", "hpu", "mps", "xla", "ipu", "mtia", "maia", "privateuseone")
_BF16_DEFAULT = ("cpu", "hpu", "xla", "maia")


def _device_type(device_type: str) -> str:
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                           f"of device string: {device_type}")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """Whether `autocast(device_type)` is accepted (PyTorch's list of autocast devices)."""
    return _device_type(device_type) in _AVAILABLE


def _has_gpu() -> bool:
    from .. import cuda

    return cuda.is_available()


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for `device_type` in this thread ("cuda" when not given)."""
    device_type = "cuda" if device_type is None else _device_type(device_type)
    if device_type not in _AVAILABLE:
        raise RuntimeError("unknown device type for autocast in "
                           "get_autocast_dispatch_key_from_device_type")
    return _autocast.state.enabled.get(device_type, False)


def get_autocast_dtype(device_type: str):
    """The dtype an autocast region on `device_type` casts to (bfloat16 on "cpu")."""
    if _device_type(device_type) not in _AVAILABLE:
        raise RuntimeError("unsupported scalarType")
    default = dt.bfloat16 if device_type in _BF16_DEFAULT else dt.float16
    return _autocast.state.dtype.get(device_type, default)


_ONE_ARGUMENT = object()


def set_autocast_enabled(device_type, enabled=_ONE_ARGUMENT) -> None:
    """`set_autocast_enabled("cpu", True)`; the one-argument form sets "cuda"'s flag."""
    position = 2
    if enabled is _ONE_ARGUMENT:
        device_type, enabled, position = "cuda", device_type, 1
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_enabled(): argument 'enabled' (position {position}) "
                        f"must be bool, not {_type_name(enabled)}")
    _autocast.set_enabled(_device_type(device_type), enabled)


def set_autocast_dtype(device_type: str, dtype) -> None:
    if not isinstance(dtype, dt.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be "
                        f"torch.dtype, not {type(dtype).__name__}")
    _autocast.state.dtype[_device_type(device_type)] = dtype


def is_autocast_cache_enabled() -> bool:
    return _autocast.state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {_type_name(enabled)})")
    _autocast.state.cache_enabled = enabled




def clear_autocast_cache() -> None:
    """Nothing to clear: graphnet casts a weight on every use (see graphnet/_autocast.py)."""


def autocast_increment_nesting() -> int:
    _autocast.state.nesting += 1
    return _autocast.state.nesting


def autocast_decrement_nesting() -> int:
    _autocast.state.nesting -= 1
    return _autocast.state.nesting


class autocast:
    """`with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`, or
    `@autocast("cpu")` on a function: ops in the region run in PyTorch's autocast dtypes.

    >>> with graphnet.autocast("cpu"):
    ...     (a @ b).dtype
    graphnet.bfloat16
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}'")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        if enabled and device_type == "cuda":
            if not _has_gpu():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", stacklevel=2)
                enabled = False
            else:
                # NOTE: the CUDA op lists differ from the CPU ones (pointwise ops in float32,
                # mv/addmv in float16 ...) and are not implemented: refuse, never guess
                raise NotImplementedError(
                    "autocast('cuda') on a GPU: graphnet implements CPU autocast's op lists "
                    "only; cast explicitly (model.to(graphnet.float16)), or pass enabled=False")
        elif enabled and self.fast_dtype not in (dt.bfloat16, dt.float16):
            name = device_type.upper()
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                          f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                          f"{dt.bfloat16}, {dt.float16} currently.", stacklevel=2)
            enabled = False
        # NOTE: kept as given, as PyTorch keeps it: `__enter__` then refuses a non-bool
        # (`enabled=1`) with PyTorch's TypeError instead of reading it as truthy
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, *exc) -> bool:
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you "
                f"mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast
