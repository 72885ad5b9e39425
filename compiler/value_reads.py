"""Python reading the values of a tensor the traced code did not make.

`buf.item()`, `int(opt.state[p]["step"])`, `float(self.scale)`, `.tolist()`, `.numpy()` on a
parameter, buffer, optimizer state or global tensor: the array is at hand while tracing, and
the Python code goes on with its numbers (a branch taken, a count, a scale). A compiled call
runs the program, not that code, so the numbers are those of the trace. Before, nothing
noticed when the tensor changed afterwards: `AveragedModel.update_parameters` in a compiled
step took its first-call branch on every call (it reads `n_averaged` with `int()`).

So the read becomes a guard: the program applies while the tensor holds the values it held
when read, and a call that finds other values traces again (as plain Python would compute
with them). Reading values on every call waits for the tensor's producer, so only tensors of
up to `MAX_GUARDED` elements are guarded; a bigger one is refused with a `TraceError`, since
a guard on it would copy it to the host on every call. Tensors the traced code made are not
guarded (their values are the same on every call, or they are graph values, which raise)."""

from __future__ import annotations

import weakref

import jax
import numpy as np
from graphnet._host_reads import GuardTooLargeError

from . import _source
from .guards import Read, freeze

MAX_GUARDED = 1024


def snapshot(array) -> tuple:
    """Plain data `guards.freeze` compares by value: dtype, shape and the elements."""
    a = np.asarray(array)
    return (a.dtype.str, a.shape, tuple(a.ravel().tolist()))


def guard_value(tracer, t, array, what: str) -> None:
    """Record that the trace read `array`, the values of `t`, for `what` (`item()`)."""
    name = tracer._name_of(t)
    if name == "tensor":
        name = tracer._guess_name(t)
    name = f"`{name}`" if name != "const" else \
        f"a {list(np.shape(array))} {np.asarray(array).dtype} tensor"
    size = int(np.prod(np.shape(array)))
    if size > MAX_GUARDED:
        raise GuardTooLargeError(
            f"{what} reads the values of {name} ({size} elements) into Python inside a "
            f"compiled function (at {_source.user_frame()}). The program would keep the "
            f"values of this trace, and checking them on every call would copy the tensor "
            f"to the host each time. Compute with tensor ops instead, read the values outside "
            f"the compiled function, or run this code uncompiled.")
    ref = weakref.ref(t)
    seen = snapshot(array)
    # NOTE: a JAX array is immutable, so while the tensor still holds the very array read here
    # its values are those seen: the check then neither copies to the host nor waits for the
    # array's producer (a write in place gives the tensor a new array, compared by value)
    same = array if isinstance(array, jax.Array) else None

    def read():
        held = ref()
        if held is None:
            return None
        return seen if held._value is same else snapshot(held._value)

    shown = seen[2][0] if size == 1 else f"{size} values"
    tracer.value_reads.append(
        Read(f"{name} holds the values {what} read while tracing ({shown})", read,
             freeze(seen), seen))
