"""64-bit types inside graphnet only.

PyTorch's labels, indices, `argmax` and `arange` are int64, and `.double()` is float64. JAX
has those types only while its `jax_enable_x64` flag is on; by default it silently makes them
int32 and float32. graphnet used to turn the flag on for the whole process at import, which
changed the user's own JAX code too (`jnp.zeros(3)` became float64).

Instead, graphnet turns it on only around its own work, with JAX's thread-local
`jax.enable_x64(True)` (about 0.4 us to enter): every eager kernel call, the tape's backward,
every JAX array graphnet builds from host data (factories, `Tensor(...)`, `from_numpy`,
checkpoints, collated batches, optimizer state, RNG keys), and every trace and call of a
compiled program (JAX's jit cache is keyed on the flag, so a program must always be traced
and called with it on). Arrays made inside keep their 64-bit types outside. Other threads
and the code around graphnet's calls keep JAX's defaults.

>>> with x64():                       # a block of graphnet's own JAX work
...     labels = jnp.asarray(np.array([1, 2]))   # int64
>>> @x64_scoped                       # or a whole function
... def full(shape, value, dtype): return jnp.full(shape, value, dtype)
"""

from __future__ import annotations

import functools

import jax


def x64():
    """A context manager: JAX's 64-bit types are on in this thread inside the block."""
    return jax.enable_x64(True)


def x64_scoped(fn):
    """Decorator: `fn` runs with JAX's 64-bit types on (in the calling thread)."""

    @functools.wraps(fn)
    def scoped(*args, **kwargs):
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return scoped
