"""PyTorch's dtype rules inside kernels: which inputs an op computes in floating point, and
which dtypes it refuses.

Kernels run with JAX's 64-bit types on (graphnet/_x64.py), where `jnp.sin` of an int64 array
is float64; PyTorch computes it in its default float dtype, float32. The helpers here run at
trace time (dtypes are static), so eager and compiled calls raise the same error."""

from __future__ import annotations

import jax.numpy as jnp

# PyTorch's names for dtypes in its "not implemented for 'Long'" messages
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
                "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32",
                "uint64": "UInt64", "bool": "Bool"}

# ... and in its "expected m1 and m2 to have the same dtype, but got: long int != float"
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def torch_name(dtype) -> str:
    """PyTorch's scalar-type name for `dtype` (any NumPy, JAX or graphnet dtype): 'Long'."""
    name = getattr(dtype, "name", None) or jnp.dtype(dtype).name
    return _TORCH_NAMES.get(name, name)


def cpp_name(dtype) -> str:
    """The C++ type name PyTorch prints for `dtype`: 'long int', 'float', 'c10::Half'."""
    name = getattr(dtype, "name", None) or jnp.dtype(dtype).name
    return _CPP_NAMES.get(name, name)


def category(x) -> str:
    """'b' (bool), 'i' (any integer) or 'f' (any float) for an array or Python number."""
    dtype = jnp.result_type(x)
    if dtype == jnp.bool_:
        return "b"
    return "f" if jnp.issubdtype(dtype, jnp.inexact) else "i"


def _default():
    """PyTorch's default float (`set_default_dtype`), as a NumPy dtype. Read when a kernel is
    traced: eager kernels are cached per default, compiled programs keyed on it."""
    from .._default_dtype import _current

    return _current["dtype"].np


def as_float(x):
    """`x` itself when it is floating point, else `x` in the default float dtype (float32
    unless set_default_dtype changed it), as in PyTorch."""
    if isinstance(x, (int, float)) or category(x) == "f":
        return x
    return x.astype(_default())


def as_floats(*xs):
    """The inputs of an op that computes in floating point: when together they would promote
    to an integer or bool dtype, the arrays among them become float32. An integer array
    beside floating ones takes their dtype, as PyTorch's float category wins over the
    integer one (`xlogy(float32, int64)` is float32; JAX's 64-bit promotion made it float64)."""
    arrays = [x for x in xs if not isinstance(x, (int, float, bool))]
    floats = [x for x in arrays if category(x) == "f"]
    if floats:
        if len(floats) == len(arrays):
            return xs
        target = jnp.result_type(*floats)
        return tuple(x if isinstance(x, (int, float, bool)) or category(x) == "f"
                     else x.astype(target) for x in xs)
    if category(jnp.result_type(*xs)) == "f":
        return xs
    return tuple(x if isinstance(x, (int, float, bool)) else x.astype(_default()) for x in xs)


def float_kernel(fn):
    """Wrap a unary kernel of a float-valued function (sin, exp ...): integer and bool input
    gives float32, as in PyTorch."""
    def kernel(x):
        return fn(as_float(x))

    kernel.__name__ = getattr(fn, "__name__", "kernel")
    kernel.__doc__ = fn.__doc__
    return kernel


def not_implemented(kernel: str, dtype) -> NotImplementedError:
    """PyTorch's `"abs_cpu" not implemented for 'Bool'`, `kernel` its kernel's full name."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{torch_name(dtype)}\'')


def refuse_result(kernel: str, *xs, kinds: str) -> None:
    """Raise PyTorch's NotImplementedError when `xs` promote to a dtype of a category in
    `kinds`: PyTorch picks a kernel by the result's dtype, so `int64 % True` runs and
    `bool % bool` does not."""
    dtype = jnp.result_type(*xs)
    if category(dtype) in kinds:
        raise not_implemented(kernel, dtype)


def as_result_type(*xs):
    """The arrays among `xs` in the dtype they promote to (bool shifted by an integer)."""
    dtype = jnp.result_type(*xs)
    return tuple(x if isinstance(x, (int, float, bool)) else x.astype(dtype) for x in xs)


def refuse(op: str, *xs, kinds: str, kernel: str | None = None) -> None:
    """Raise PyTorch's NotImplementedError when an array among `xs` has a dtype of a category
    in `kinds` ('b', 'i', 'f'): `"hypot_cpu" not implemented for 'Long'`."""
    for x in xs:
        if isinstance(x, (int, float, bool)):
            continue
        if category(x) in kinds:
            raise not_implemented(f"{kernel or op}_cpu", x.dtype)
