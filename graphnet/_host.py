"""Eager arrays built on the host and copied to the device, with no XLA program compiled.

`jnp.asarray(numpy_array, dtype)`, `jnp.full` and `jnp.zeros` each compile an XLA program the
first time they meet a shape: 15-40 ms per shape on a CPU, paid by every factory call
(`zeros`, `tensor`, `from_numpy`), every zero gradient of the tape and every optimizer state
buffer with a shape not seen before. A NumPy array copied by `jax.device_put` costs
microseconds. Large fills stay on the device (a host fill of hundreds of megabytes would cost
more than the compile), and so does anything asked for while JAX traces (a constant folded
into the program would be stored in it).

NOTE: on a CPU, `jax.device_put` may keep a 64-byte-aligned NumPy buffer as the array's own
memory instead of copying it, and XLA cannot then update that array in place when a later
call donates it (an optimizer step would allocate every parameter anew once). The host array
is therefore built 16 bytes past such a boundary, so the copy is always XLA's own buffer.

NOTE: only for the first `HOST_USES` times a (shape, dtype) is met. `jax.device_put` costs
about 40 us a call against 25-50 us for JAX's compiled fill once it exists, so a shape met
more often (a training loop's `zeros(batch, hidden)`) takes the compiled path from then on:
its compile (15-40 ms) is paid once, after a few host copies costing tens of microseconds
more each. Shapes met only a few times (a test suite, a script's setup, varying batch sizes)
pay none: with the compile on the second meeting, as before, identity copies and fills
were 1,567 of the 19,449 programs the test suite compiled."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax._src import core as _jax_core  # trace_state_clean: JAX's own "not tracing" test

HOST_FILL_MAX = 1 << 20   # elements; larger fills are compiled and run on the device
HOST_USES = 4             # meetings of a (kind, shape, dtype) served from the host
_SEEN_MAX = 4096          # (kind, shape, dtype) keys remembered; forgotten all at once past it
_seen: dict = {}          # key -> meetings so far (up to HOST_USES)


def _eager() -> bool:
    return _jax_core.trace_state_clean()


def _on_host(key) -> bool:
    """True for the first HOST_USES meetings of `key`, False from then on."""
    met = _seen.get(key, 0)
    if met >= HOST_USES:
        return False
    if not met and len(_seen) >= _SEEN_MAX:
        _seen.clear()
    _seen[key] = met + 1
    return True


def put(array: np.ndarray, dtype=None) -> jax.Array:
    """`jnp.asarray(array, dtype)` for host data, converted by NumPy and copied to the default
    device before returning: the caller may change `array` afterwards, as PyTorch's
    `tensor()` allows. JAX's own type rules apply to the copy (int64 needs graphnet's x64
    scope)."""
    array = np.asarray(array)
    if not _eager() or not _on_host(("put", array.shape, array.dtype, dtype)):
        # NOTE: a copy first: JAX may keep a NumPy buffer as the array's memory, or read it
        # after returning, so a later change to the caller's array reached the tensor (a
        # tensor of a NumPy array changed after the call held the new values now and then)
        return jnp.asarray(np.array(array, copy=True), dtype)
    if dtype is not None and array.dtype != dtype:
        if array.dtype.kind in "fc" and np.dtype(dtype).kind in "iub":
            # JAX saturates where NumPy's cast is undefined
            return jnp.asarray(np.array(array, copy=True), dtype)
        array = array.astype(dtype)
    staged = _unaligned(array.shape, array.dtype)
    staged[...] = array
    return jax.device_put(staged)


def full(shape, value, dtype) -> jax.Array:
    """`jnp.full(shape, value, dtype)`: the value converted as JAX converts it (out-of-range
    integers wrap: -1 as uint8 is 255, as in PyTorch)."""
    shape = tuple(shape)
    dtype = np.dtype(dtype)
    if not _eager() or math.prod(shape) > HOST_FILL_MAX or isinstance(value, jax.Array) \
            or not _on_host(("full", shape, dtype)):
        return jnp.full(shape, value, dtype)
    staged = _unaligned(shape, dtype)
    staged[...] = _converted(value, dtype)
    return jax.device_put(staged)


def _unaligned(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """An empty host array starting 16 bytes past a 64-byte boundary (see the NOTE above)."""
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    raw = np.empty(size + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + 16
    return raw[start:start + size].view(dtype).reshape(shape)


def zeros(shape, dtype) -> jax.Array:
    return full(shape, 0, dtype)


def _converted(value, dtype: np.dtype):
    if isinstance(value, (bool, np.bool_)) or dtype.kind not in "iu":
        return np.asarray(value).astype(dtype)
    if not isinstance(value, (int, np.integer)):
        # a float into an integer type: JAX saturates (3e10 as int32 is 2**31 - 1), NumPy's
        # cast is undefined there; one scalar conversion by JAX itself
        return np.asarray(lax.convert_element_type(value, dtype))
    # an integer into an integer type wraps modulo 2**bits, as in JAX and PyTorch
    bits = dtype.itemsize * 8
    wrapped = int(value) % (1 << bits)
    if dtype.kind == "i" and wrapped >= 1 << (bits - 1):
        wrapped -= 1 << bits
    return np.asarray(wrapped).astype(dtype)
