"""Contractions: matmul, linear (and, with issue 3, convolutions)."""

from __future__ import annotations

import jax.numpy as jnp

from ._opmath import wide_on_cpu, wide_sum
from ._operand_dtypes import check_linear, check_matmul, check_same
from ._table import defop
from .einsum_sums import integral_plan


@defop("matmul", "contraction", function=("matmul", "mm", "bmm", "mv"),
       method=("matmul", "mm", "bmm", "mv"), dump=True, backward="MmBackward0")
def matmul(a, b):
    check_matmul(a, b)
    if b.ndim == 1 and wide_on_cpu(a, b):
        # NOTE: with a vector on the right, XLA fuses the products into a reduction and its
        # CPU code generator contracts them into fused multiply-adds: a compiled `u @ u` of
        # the unit vector [0.6, 0.8, 0] was 1.0000001 (acos of it NaN), 1.0 eagerly and in
        # PyTorch; summed as `(u * u).sum()` is (_opmath.wide_sum), each product is rounded
        return wide_sum(a * b, -1, False)
    return jnp.matmul(a, b)


@defop("linear", "contraction", function="nn.functional.linear", method=None, dump=True,
       backward="AddmmBackward0")
def linear(x, weight, bias=None):
    check_linear(x, weight, bias)
    # PyTorch stores Linear weights as [out, in]; contract on the last axis of both.
    if x.dtype not in _HALF:
        y = jnp.matmul(x, weight.T)
        return y if bias is None else y + bias
    # NOTE: PyTorch's half-precision linear accumulates in float32, adds the bias there and
    # rounds once; rounding `x @ W.T` first was 1 ulp off for about half the outputs. The
    # bias's gradient, a sum over rows, is then accumulated in float32 too (the transpose of
    # the cast), as PyTorch's sum is.
    y = jnp.matmul(x, weight.T, preferred_element_type=jnp.float32)
    if bias is not None:
        y = y + bias.astype(jnp.float32)
    return y.astype(x.dtype)


_HALF = (jnp.float16, jnp.bfloat16)


@defop("einsum", "contraction", method=None)
def einsum(*operands, equation):
    first = operands[0].dtype
    if jnp.issubdtype(first, jnp.floating) or jnp.issubdtype(first, jnp.complexfloating):
        check_same(operands)
        inputs, _, out = equation.partition("->")
        if len(operands) == 2 and "->" in equation and not out.strip() \
                and all(x.ndim == 1 for x in operands) and inputs[0] == inputs[-1] \
                and wide_on_cpu(*operands):
            return wide_sum(operands[0] * operands[1], 0, False)   # as matmul's `u @ u`
        return jnp.einsum(equation, *operands)
    # integer and bool: summed alone in int64, as PyTorch's `sum()` (einsum_sums.py)
    promote, contracts = integral_plan(equation, [x.shape for x in operands])
    check_same(operands, contracts=contracts and not promote)   # promoted: bmm on int64
    if promote:
        operands = [x.astype(jnp.int64) for x in operands]
    return jnp.einsum(equation, *operands)
