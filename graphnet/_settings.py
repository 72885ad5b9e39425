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


def _count(name: str, n) -> int:
    """`n` as PyTorch's thread setters take it: an int (not a bool), positive."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return int(n)


def set_num_threads(n: int) -> None:
    _STATE["threads"] = _count("set_num_threads", n)


def get_num_threads() -> int:
    return _STATE["threads"]


def set_num_interop_threads(n: int) -> None:
    """Once per process, as in PyTorch (its pool starts then)."""
    n = _count("set_num_interop_threads", n)
    if _STATE.get("interop_set"):
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _STATE["interop"], _STATE["interop_set"] = n, True


def get_num_interop_threads() -> int:
    return _STATE["interop"]


def init_num_threads() -> None:
    """Nothing to initialise: XLA owns its thread pools."""


_PRECISIONS = {"highest": "highest", "high": "tensorfloat32", "medium": "bfloat16"}


def set_float32_matmul_precision(precision: str) -> None:
    """"highest" (full float32), "high" (TF32 on GPUs), "medium" (bfloat16 passes); another
    value warns and changes nothing, as in PyTorch."""
    if precision not in _PRECISIONS:
        import warnings

        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    jax.config.update("jax_default_matmul_precision", _PRECISIONS[precision])
    _STATE["precision"] = precision


def get_float32_matmul_precision() -> str:
    return _STATE["precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    for name, value, where in (("mode", mode, " (position 1)"), ("warn_only", warn_only, "")):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"_set_deterministic_algorithms(): argument '{name}'{where} must "
                            f"be bool, not {type(value).__name__}")
    _STATE["deterministic"], _STATE["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _STATE["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """0 / "default", 1 / "warn", 2 / "error"; anything else raises, as in PyTorch."""
    if isinstance(debug_mode, str):
        names = {"default": 0, "warn": 1, "error": 2}
        if debug_mode not in names:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    elif isinstance(debug_mode, (int, np.integer)):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                               f"{debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def uninitialized(t):
    """`t`, a tensor PyTorch leaves uninitialised (`empty` and kin): zeros here, but under
    `use_deterministic_algorithms(True)` with `utils.deterministic.fill_uninitialized_memory`
    filled as PyTorch fills it then (NaN, the integer maximum, True)."""
    from ._autograd import no_grad
    from ._dispatch import depends_on

    depends_on("use_deterministic_algorithms and fill_uninitialized_memory",
               _fills_uninitialized)   # a compiled `empty` recompiles when they change
    if not _fills_uninitialized():
        return t
    kind = t.dtype
    value = math.nan if kind.is_floating_point else True if kind is dt.bool_ else \
        int(np.iinfo(kind.np).max)
    with no_grad():
        t.fill_(value)
    return t


def _fills_uninitialized() -> bool:
    from .utils import deterministic

    return _STATE["deterministic"] and bool(deterministic.fill_uninitialized_memory)


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
