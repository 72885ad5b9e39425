"""Random ops. They take an explicit key input, so a traced graph threads RNG state like any
other state (fresh masks every step, reproducible under `manual_seed`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

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
    return jax.random.uniform(_key(key), shape, dtype, low, high)


@defop("normal", "opaque", random=True, differentiable=False,
       function=("normal", "randn", "randn_like"), method=None, inplace="normal_")
def normal(key, mean=0.0, std=1.0, *, shape, dtype):
    return mean + std * jax.random.normal(_key(key), shape, dtype)


@defop("randint", "opaque", random=True, differentiable=False, method=None)
def randint(key, *, shape, low, high, dtype):
    return jax.random.randint(_key(key), shape, low, high, dtype)


@defop("randperm", "opaque", random=True, differentiable=False, method=None)
def randperm(key, *, n, dtype):
    return jax.random.permutation(_key(key), n).astype(dtype)


@defop("dropout", "opaque", random=True, nondiff_inputs=(1,), function="nn.functional.dropout",
       method=None)
def dropout(x, key, *, p):
    keep = jax.random.bernoulli(_key(key), 1.0 - p, x.shape)
    return jnp.where(keep, x / (1.0 - p), jnp.zeros((), x.dtype))


@defop("full", "opaque", differentiable=False, method=None,
       function=("full", "zeros", "ones", "full_like", "zeros_like", "ones_like"))
def full(*, shape, value, dtype):
    return jnp.full(shape, value, dtype)


@defop("arange", "opaque", differentiable=False, method=None)
def arange(*, start, end, step, dtype):
    return jnp.arange(start, end, step, dtype=dtype)


@defop("poisson", "opaque", random=True, differentiable=False, function=None, method=None)
def poisson(key, rate):
    """Poisson counts with the given rates, in the rates' dtype (PyTorch's torch.poisson)."""
    return jax.random.poisson(_key(key), rate, rate.shape).astype(rate.dtype)

