"""Kinked pointwise ops whose gradient is a *select*, as PyTorch's backward is.

PyTorch's backward of maximum, minimum, relu ... picks the incoming gradient or 0
(`grad.masked_fill(mask, 0)`); JAX's rules multiply it by a 0/1 mask instead. The two agree
until the incoming gradient is inf or NaN (`sqrt(maximum(x, 0))` at x = -1: the sqrt sends
inf), where 0 * inf made the input's gradient NaN and PyTorch's is 0. The tangent rules here
are `jnp.where`s of the tangents, so their transposes (the gradients) are selects too."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _pick(a_loses, b_loses, tie, ta, tb):
    """The sum over the operands of: 0 where it loses, half its tangent at a tie, all of it
    otherwise. Where neither wins (a NaN operand) both count, as PyTorch's maximum_backward
    masks only the loser."""
    zero = jnp.zeros_like(ta)
    part_a = jnp.where(a_loses, zero, jnp.where(tie, ta / 2, ta))
    part_b = jnp.where(b_loses, zero, jnp.where(tie, tb / 2, tb))
    return part_a + part_b


@jax.custom_jvp
def _float_maximum(a, b):
    return jnp.maximum(a, b)


@_float_maximum.defjvp
def _float_maximum_jvp(primals, tangents):
    (a, b), (ta, tb) = primals, tangents
    return jnp.maximum(a, b), _pick(a < b, a > b, a == b, ta, tb)


@jax.custom_jvp
def _float_minimum(a, b):
    return jnp.minimum(a, b)


@_float_minimum.defjvp
def _float_minimum_jvp(primals, tangents):
    (a, b), (ta, tb) = primals, tangents
    return jnp.minimum(a, b), _pick(a > b, a < b, a == b, ta, tb)


def floats_broadcast(float_kernel, int_kernel):
    """`float_kernel` (one with a custom rule) on floating results, the operands promoted and
    broadcast first (a custom rule's tangents and gradients have its output's shape; JAX sums
    the gradients back to the operands' shapes); `int_kernel` on integers and bools. Also
    pointwise._with_vjp's."""
    def kernel(a, b):
        dtype = jnp.result_type(a, b)
        if not jnp.issubdtype(dtype, jnp.floating):
            return int_kernel(a, b)
        a, b = jnp.broadcast_arrays(jnp.asarray(a, dtype), jnp.asarray(b, dtype))
        return float_kernel(a, b)

    kernel.__name__ = int_kernel.__name__
    return kernel


maximum = floats_broadcast(_float_maximum, jnp.maximum)
minimum = floats_broadcast(_float_minimum, jnp.minimum)
