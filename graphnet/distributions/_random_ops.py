"""The samplers the distributions need beyond uniform and normal draws: JAX's gamma and
binomial, as random ops that take an RNG key like graphnet/_ops/random.py's.

`standard_gamma` differentiates with respect to the concentration by implicit
reparameterisation (JAX's gamma sampler has that rule built in: d sample / d alpha =
-(dF/d alpha) / pdf at the drawn sample), the gradient PyTorch's `_standard_gamma` has.
Gamma, Beta, Dirichlet, Chi2 and StudentT `rsample` through it."""

from __future__ import annotations

import jax

from .._dispatch import dispatch
from .._ops import defop
from .._random import key as _next_key
from .._tensor import Tensor


def _key(data):
    return jax.random.wrap_key_data(data)


@defop("standard_gamma", "opaque", random=True, nondiff_inputs=(0,), function=None,
       method=None)
def _standard_gamma_kernel(key, concentration):
    return jax.random.gamma(_key(key), concentration, concentration.shape,
                            concentration.dtype)


@defop("binomial_counts", "opaque", random=True, differentiable=False, function=None,
       method=None)
def _binomial_kernel(key, count, prob):
    draws = jax.random.binomial(_key(key), count.astype(prob.dtype), prob, prob.shape)
    return draws.astype(prob.dtype)


def standard_gamma(concentration: Tensor) -> Tensor:
    """Gamma(concentration, 1) draws, one per entry, differentiable in `concentration`."""
    return dispatch("standard_gamma", _next_key(None), concentration)


def binomial_counts(total_count: Tensor, probs: Tensor) -> Tensor:
    """Binomial(total_count, probs) draws (same shapes), as floats like torch.binomial."""
    return dispatch("binomial_counts", _next_key(None), total_count.detach(), probs.detach())
