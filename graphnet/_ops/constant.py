"""`constant`: an array baked into the graph (made by the compiler's constant folding).

Attributes must be hashable, so the array travels as a `ConstantValue`: its raw bytes, shape
and dtype. It prints its values when there are a few, else its type and a short digest, so
printed graphs stay readable and deterministic."""

from __future__ import annotations

import hashlib

import jax.numpy as jnp
import numpy as np
from graphnet._dtype import short_name

from ._table import defop

_SHOWN = 8   # print the values of constants with at most this many elements


class ConstantValue:
    """A hashable, immutable array: `ConstantValue(np.arange(3.0))`; `.array()` gives it back."""

    __slots__ = ("data", "shape", "dtype")

    def __init__(self, array):
        array = np.array(array, order="C")   # not ascontiguousarray: it makes 0-d arrays 1-d
        self.data, self.shape, self.dtype = array.tobytes(), tuple(array.shape), array.dtype

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, self.dtype).reshape(self.shape)

    def __eq__(self, other) -> bool:
        return isinstance(other, ConstantValue) and (self.data, self.shape, self.dtype) == \
            (other.data, other.shape, other.dtype)

    def __hash__(self) -> int:
        return hash((self.data, self.shape, self.dtype))

    def __repr__(self) -> str:
        kind = f"{short_name(self.dtype)}[{','.join(str(s) for s in self.shape)}]"
        if self.array().size <= _SHOWN:
            return f"{kind} {self.array().tolist()}"
        return f"{kind} sha1:{hashlib.sha1(self.data).hexdigest()[:10]}"


@defop("constant", "opaque", differentiable=False, function=None, method=None)
def constant(*, value: ConstantValue):
    return jnp.asarray(value.array())
