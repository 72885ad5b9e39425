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


def _selecting(forward, a_loses):
    """`forward(a, b)` (jnp.maximum or jnp.minimum) with a select tangent rule; `a_loses(a,
    b)` says where `a` is not picked (b's loses are the same test with the operands swapped)."""
    @jax.custom_jvp
    def kernel(a, b):
        return forward(a, b)

    @kernel.defjvp
    def _jvp(primals, tangents):
        (a, b), (ta, tb) = primals, tangents
        return forward(a, b), _pick(a_loses(a, b), a_loses(b, a), a == b, ta, tb)

    return kernel


_float_maximum = _selecting(jnp.maximum, lambda a, b: a < b)
_float_minimum = _selecting(jnp.minimum, lambda a, b: a > b)


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
