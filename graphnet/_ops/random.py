"""Random ops. They take an explicit key input, so a traced graph threads RNG state like any
other state (fresh masks every step, reproducible under `manual_seed`)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ._range_values import arange_values
from ._table import defop


def _key(data):
    return jax.random.wrap_key_data(data)


@defop("rng_split", "opaque", random=True, n_outputs=2, differentiable=False, function=None,
       method=None)
def rng_split(state):
    """state -> (next state, a key for one random op); both raw uint32 key data."""
    new, sub = jax.random.split(_key(state))
    return jax.random.key_data(new), jax.random.key_data(sub)


# NOTE: bounds and moments are inputs, not attributes: layer init draws with a different bound
# per fan-in, and as attributes each would compile a kernel of its own.
@defop("uniform", "opaque", random=True, differentiable=False, function=("rand", "rand_like"),
       method=None, inplace="uniform_")
def uniform(key, low=0.0, high=1.0, *, shape, dtype):
    draw = _draw_dtype(dtype)
    values = jax.random.uniform(_key(key), shape, draw, low, high)
    if draw == dtype:
        return values
    # NOTE: a draw just below `high` rounds up to it in the narrow type; PyTorch then gives
    # `low`, keeping the range half-open (bfloat16 rand() is 0 with probability 2**-9 there)
    values, top = values.astype(dtype), jnp.asarray(high, draw).astype(dtype)
    return jnp.where(values == top, jnp.asarray(low, draw).astype(dtype), values)


@defop("normal", "opaque", random=True, differentiable=False,
       function=("normal", "randn", "randn_like"), method=None, inplace="normal_")
def normal(key, mean=0.0, std=1.0, *, shape, dtype):
    draw = _draw_dtype(dtype)
    values = mean + std * jax.random.normal(_key(key), shape, draw)
    return values if draw == dtype else values.astype(dtype)


def _draw_dtype(dtype):
    """The dtype a float draw is made in: float32 for float16 and bfloat16, as PyTorch draws
    them and rounds. NOTE: JAX's sampler in the narrow type itself keeps only its mantissa's
    random bits: 128 distinct bfloat16 values from randn, none beyond |x| > 2.9."""
    return jnp.float32 if jnp.dtype(dtype).itemsize < 4 else dtype


@defop("randint", "opaque", random=True, differentiable=False, method=None)
def randint(key, *, shape, low, high, dtype):
    if high > jnp.iinfo(dtype).max:   # up to the dtype's largest value (`random_()` of int64)
        high = np.uint64(high)         # JAX then includes that value; an int64 would overflow
    return jax.random.randint(_key(key), shape, low, high, dtype)


@defop("randperm", "opaque", random=True, differentiable=False, method=None)
def randperm(key, *, n, dtype):
    return jax.random.permutation(_key(key), n).astype(dtype)


# NOTE: PyTorch's CPU dropout multiplies by a scaled mask: MulBackward0, as channel_dropout's
@defop("dropout", "opaque", random=True, nondiff_inputs=(1,), function="nn.functional.dropout",
       method=None, backward="MulBackward0")
def dropout(x, key, *, p):
    keep = jax.random.bernoulli(_key(key), 1.0 - p, x.shape)
    return jnp.where(keep, x * _keep_scale(p, x.dtype), jnp.zeros((), x.dtype))


def _keep_scale(p: float, dtype):
    """1 / (1 - p) as PyTorch makes it: a quotient in float32 (float64 for float64), rounded to
    the input's dtype, then a product. NOTE: `x / (1 - p)` in float16 divided by 0.7 rounded
    to float16 first: a scale of 1.4277 where PyTorch has 1.4287."""
    wide = np.float64 if jnp.dtype(dtype) == np.float64 else np.float32
    return jnp.asarray(wide(1.0) / wide(1.0 - p)).astype(dtype)


@defop("full", "opaque", differentiable=False, method=None,
       function=("full", "zeros", "ones", "full_like", "zeros_like", "ones_like"))
def full(*, shape, value, dtype):
    return jnp.full(shape, value, dtype)


@defop("arange", "opaque", differentiable=False, method=None)
def arange(*, start, end, step, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f" and dtype.name != "bfloat16":   # integers: exact either way
        return jnp.arange(start, end, step, dtype=dtype)
    # PyTorch's length and values (jnp.arange's differed in the last bit; _range_values.py)
    count = max(0, math.ceil((float(end) - float(start)) / float(step)))
    return arange_values(jnp, start, step, count, dtype)


@defop("poisson", "opaque", random=True, differentiable=False, function=None, method=None)
def poisson(key, rate):
    """Poisson counts with the given rates, in the rates' dtype (PyTorch's torch.poisson)."""
    return jax.random.poisson(_key(key), rate, rate.shape).astype(rate.dtype)

