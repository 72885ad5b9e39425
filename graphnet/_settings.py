"""The process settings a training script sets in its first lines, as torch names them:
threads, float32 matmul precision, deterministic algorithms, `finfo`/`iinfo`, `typename`.

XLA fixes its CPU thread pool when the backend starts, so `set_num_threads` records the
number (and `get_num_threads` reports it) without resizing anything; XLA on CPU is
deterministic, so `use_deterministic_algorithms` only records the choice. The matmul
precision maps onto JAX's `jax_default_matmul_precision`, which changes what GPU matmuls
compute, as PyTorch's TF32 switch does."""

from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from . import _dtype as dt

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_deterministic_debug_mode", "get_deterministic_debug_mode", "finfo", "iinfo",
           "typename", "set_printoptions", "set_warn_always", "is_warn_always_enabled",
           "set_flush_denormal", "init_num_threads", "get_default_dtype", "set_default_dtype",
           "set_default_tensor_type"]

from ._default_dtype import (  # noqa: E402
    default_float, get_default_dtype, set_default_dtype, set_default_tensor_type)
from ._format import set_printoptions  # noqa: E402

_STATE = {"threads": os.cpu_count() or 1, "interop": os.cpu_count() or 1,
          "precision": "highest", "deterministic": False, "warn_only": False,
          "warn_always": False}


def set_num_threads(n: int) -> None:
    if int(n) <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _STATE["threads"] = int(n)


def get_num_threads() -> int:
    return _STATE["threads"]


def set_num_interop_threads(n: int) -> None:
    _STATE["interop"] = int(n)


def get_num_interop_threads() -> int:
    return _STATE["interop"]


def init_num_threads() -> None:
    """Nothing to initialise: XLA owns its thread pools."""


_PRECISIONS = {"highest": "highest", "high": "tensorfloat32", "medium": "bfloat16"}


def set_float32_matmul_precision(precision: str) -> None:
    """"highest" (full float32), "high" (TF32 on GPUs), "medium" (bfloat16 passes)."""
    if precision not in _PRECISIONS:
        raise RuntimeError(f"Invalid precision {precision!r}: expected one of "
                           f"{sorted(_PRECISIONS)}")
    jax.config.update("jax_default_matmul_precision", _PRECISIONS[precision])
    _STATE["precision"] = precision


def get_float32_matmul_precision() -> str:
    return _STATE["precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    _STATE["deterministic"], _STATE["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _STATE["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    mode = {"default": 0, "warn": 1, "error": 2}.get(debug_mode, debug_mode)
    use_deterministic_algorithms(mode != 0, warn_only=mode == 1)


def get_deterministic_debug_mode() -> int:
    return 0 if not _STATE["deterministic"] else 1 if _STATE["warn_only"] else 2


def set_warn_always(b: bool) -> None:
    _STATE["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _STATE["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """XLA's CPU kernels flush subnormal numbers to zero, always (`3e-308 / 8` is 0.0 where
    PyTorch's default gives 3.75e-309): asking for that returns True, as PyTorch's does
    where it can; asking to keep subnormals cannot be honoured, and warns."""
    if mode:
        return True
    import warnings

    warnings.warn("graphnet cannot keep subnormal numbers: XLA's CPU kernels flush them to "
                  "zero (a result below the dtype's smallest normal, finfo.tiny, is 0)",
                  stacklevel=2)
    return False


def _g(v: float) -> str:
    return f"{v:g}"


class finfo:
    """Machine limits of a floating point dtype (default: `get_default_dtype()`), as
    torch.finfo."""

    def __init__(self, type=None):
        kind = type or default_float()
        if not kind.is_floating_point:   # PyTorch's words
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        self.dtype = kind.name    # a str, as PyTorch's ('float32')
        info = jnp.finfo(dt.to_np(kind))   # knows bfloat16 too
        self.bits, self.eps, self.max, self.min = info.bits, float(info.eps), float(info.max), \
            float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(-math.log10(self.eps))   # PyTorch's: decimal digits

    def __repr__(self) -> str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, "
                f"max={_g(self.max)}, eps={_g(self.eps)}, smallest_normal="
                f"{_g(self.smallest_normal)}, tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as torch.iinfo."""

    def __init__(self, type):
        if type.name == "bool":   # PyTorch's words
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        self.dtype = type.name    # a str, as PyTorch's ('int32')
        info = np.iinfo(dt.to_np(type))
        self.bits, self.min, self.max = info.bits, int(info.min), int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
               "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}


def typename(obj) -> str:
    """'torch.FloatTensor' for a float32 tensor (PyTorch's spelling), else the type's name."""
    if hasattr(obj, "dtype") and hasattr(obj, "_value"):
        return "torch." + _TYPE_NAMES[obj.dtype.name]
    module = type(obj).__module__
    return type(obj).__qualname__ if module == "builtins" else f"{module}.{type(obj).__qualname__}"
