"""A tensor's values handed to Python and NumPy: `numpy(force=)`, `float(t)`, `int(t)` (and
`complex(t)`, which Python builds on `float`) and `x in t`, with PyTorch's errors."""

from __future__ import annotations

import math
from numbers import Number

import numpy as np

from ._tensor import Tensor


def numpy(self: Tensor, *, force: bool = False) -> np.ndarray:
    """The values as a NumPy array. `force=True` takes them from a tensor that requires grad
    too (PyTorch's `detach().cpu().numpy()`).
    NOTE: PyTorch shares memory with NumPy; JAX arrays are immutable, so this is a writable
    copy (changing it does not change the tensor)."""
    from ._autograd import grad_mode   # (PyTorch's test: requires grad with grad mode on)

    if self.requires_grad and not force and grad_mode.enabled:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                           "Use tensor.detach().numpy() instead.")
    return np.array(self._concrete("numpy()"))


def _one_number(self: Tensor, what: str) -> np.ndarray:
    """The one element, as a 0-d array; PyTorch's ValueError for any other count (checked
    on the shape first, so a traced tensor of many elements gets it too)."""
    if math.prod(self._value.shape) != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    return np.asarray(self._concrete(what)).reshape(())


def _float(self: Tensor) -> float:
    return float(_one_number(self, "float()"))


def _int(self: Tensor) -> int:
    return int(_one_number(self, "int()"))


def _contains(self: Tensor, element) -> bool:
    """`element in t`: whether any element of t equals it, as PyTorch's `(t == element).any()`
    (Python's fallback compared rows and raised for a 2-d tensor)."""
    if isinstance(element, (Tensor, Number)):
        return bool((element == self).any().item())
    raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in "
                       f"a {type(element)}.")


def _array(self: Tensor, dtype=None, copy=None) -> np.ndarray:
    """`np.asarray(t)`: `numpy()`, so a tensor that requires grad raises as in PyTorch
    (before, its values were handed over and the gradient silently dropped)."""
    array = numpy(self)
    return array.astype(dtype, copy=False) if dtype is not None else array


def _array_wrap(self: Tensor, array, context=None, return_scalar=False) -> Tensor:
    """A NumPy function's result on a tensor (`np.exp(t)`), back as a tensor as PyTorch
    gives it: a bool result as uint8."""
    from ._factories import from_numpy

    array = np.asarray(array)
    return from_numpy(array.astype(np.uint8) if array.dtype == np.bool_ else array)


Tensor.numpy = numpy
Tensor.__array__ = _array
Tensor.__array_wrap__ = _array_wrap
Tensor.__float__ = _float
Tensor.__int__ = _int
Tensor.__contains__ = _contains
