"""ELU and softplus with PyTorch's derivatives at their kinks, to every order asked for.

PyTorch differentiates elu through `elu_backward`, whose slope at x = 0 is alpha (the
negative side's, x <= 0), and that backward through `elu_double_backward`, whose curvature
takes the strict x < 0: 0 at the kink. Softplus likewise: slope z / (z + 1) up to the
threshold, curvature only strictly below it. Written as one `where`, JAX differentiates the
chosen branch twice and gave the left limit instead (elu(alpha=0.5)'' at 0 was 0.5, selu''
1.758; PyTorch's 0): a score-matching or Hessian term at those points was silently off. The
value and slope are custom_jvp functions whose tangents are the next function down."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def _neg(x, strict: bool):
    return x < 0 if strict else x <= 0


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def elu(x, alpha: float):
    """alpha * expm1(x) for x <= 0, else x (a NaN takes the positive side, as PyTorch)."""
    neg = _neg(x, False)
    return jnp.where(neg, alpha * jnp.expm1(jnp.where(neg, x, 0)), x)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _elu_slope(x, alpha: float):
    neg = _neg(x, False)
    return jnp.where(neg, alpha * jnp.exp(jnp.where(neg, x, 0)), jnp.ones((), x.dtype))


@elu.defjvp
def _elu_jvp(alpha, primals, tangents):
    (x,), (t,) = primals, tangents
    return elu(x, alpha), _elu_slope(x, alpha) * t


@_elu_slope.defjvp
def _elu_slope_jvp(alpha, primals, tangents):
    (x,), (t,) = primals, tangents
    neg = _neg(x, True)      # elu_double_backward: 0 at the kink
    return _elu_slope(x, alpha), jnp.where(neg, alpha * jnp.exp(jnp.where(neg, x, 0)), 0) * t


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def softplus(x, beta: float, threshold: float):
    """log1p(exp(beta * x)) / beta, the identity above `threshold` (PyTorch's)."""
    scaled = x * beta
    above = scaled > threshold
    return jnp.where(above, x, jnp.log1p(jnp.exp(jnp.where(above, threshold, scaled))) / beta)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _softplus_slope(x, beta: float, threshold: float):
    scaled = x * beta
    above = scaled > threshold
    z = jnp.exp(jnp.where(above, threshold, scaled))
    return jnp.where(above, jnp.ones((), x.dtype), z / (z + 1))    # softplus_backward's


@softplus.defjvp
def _softplus_jvp(beta, threshold, primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x, beta, threshold), _softplus_slope(x, beta, threshold) * t


@_softplus_slope.defjvp
def _softplus_slope_jvp(beta, threshold, primals, tangents):
    (x,), (t,) = primals, tangents
    scaled = x * beta
    below = scaled < threshold     # softplus_double_backward: strictly below
    s = jax.nn.sigmoid(jnp.where(below, scaled, 0))
    return _softplus_slope(x, beta, threshold), jnp.where(below, beta * s * (1 - s), 0) * t
