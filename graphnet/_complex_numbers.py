"""The one refusal of a complex number (`1j`, `np.complex64(1)`) as an op's input.

graphnet has no complex dtype (graphnet/_dtype_methods.py says why). A complex number that
reached a kernel made a complex JAX array no other part knew (a KeyError when printed) or
lost its imaginary part silently (`x[0] = 1j`). PyTorch either makes a complex tensor
(`where(c, x, 1j)`, `full((2,), 1j)`) or refuses with a RuntimeError (`x.clamp(1j)`,
`x[0] = 1j` on a float tensor); graphnet refuses both, with one error that is a TypeError
(graphnet's refusals of complex numbers) and a RuntimeError (PyTorch's type where it refuses)."""

from __future__ import annotations

import numpy as np

COMPLEX_NUMBERS = (complex, np.complexfloating)


class ComplexNumberError(TypeError, RuntimeError):
    """A complex number given to an op: graphnet has no complex dtype."""


def complex_number_error(op: str, value) -> ComplexNumberError:
    """The error for the complex number `value` given to op `op`.

    >>> x.clamp(1j)   # ComplexNumberError: clamp(): graphnet has no complex dtype, ...
    """
    return ComplexNumberError(
        f"{op}(): graphnet has no complex dtype, so a tensor cannot be combined with the "
        f"complex number {value!r}; keep the real and imaginary parts as two real tensors "
        f"instead")


def real_array(data) -> np.ndarray:
    """`np.asarray(data)` for a tensor factory (`tensor`, `as_tensor`), refused where it is
    complex: PyTorch would make a complex64/complex128 tensor (`tensor([1j])`)."""
    array = np.asarray(data)
    if array.dtype.kind == "c":
        what = "np.ndarray" if isinstance(data, np.ndarray) else "complex data"
        raise ComplexNumberError(
            f"tensor(): can't convert {what} of type numpy.{array.dtype.name}: graphnet has no "
            f"complex dtypes (PyTorch would make a complex tensor); keep the real and "
            f"imaginary parts as two real tensors instead")
    return array


def fill_number(value):
    """`full`'s fill value: a 0-d tensor's number, a Python number as given, a complex number
    refused (PyTorch makes a complex tensor, or refuses it for a real dtype)."""
    from ._tensor import Tensor   # NOTE: dispatch imports this module

    if isinstance(value, Tensor):
        return value.item()
    if isinstance(value, COMPLEX_NUMBERS):
        raise complex_number_error("full", value)
    return value


# what dispatch converts: NumPy numbers (to the Python number they hold) and complex ones
# (refused); one isinstance on each number an op is given, none on tensors
NUMBERS_TO_CONVERT = (np.generic, complex)


def plain_number(op: str, n):
    """A NumPy number as the Python number it holds, as in PyTorch (`x * np.float64(2)` stays
    float32); a complex number refused."""
    if isinstance(n, COMPLEX_NUMBERS):
        raise complex_number_error(op, n)
    return n.item() if isinstance(n, (np.floating, np.integer)) else n


def tensor_number(value):
    """A 0-d tensor given where an op takes a number (`elu(x, alpha=t)`, `pad(value=t)`):
    its value, as PyTorch reads it into a Scalar. NOTE: kept as the tensor, it keyed the
    eager kernel cache by the object and its first value was bound into the kernel, so after
    `t.fill_(2.0)` the op still used the old number."""
    kind = value._value.dtype.kind
    if kind in "iu":
        return value.__index__()
    if kind == "b":
        return bool(value)
    return float(value) if kind == "f" else value
