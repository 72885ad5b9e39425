"""Contractions: matmul, linear (and, with issue 3, convolutions)."""

from __future__ import annotations

import jax.numpy as jnp

from ._table import defop


@defop("matmul", "contraction")
def matmul(a, b):
    return jnp.matmul(a, b)


@defop("linear", "contraction", torch_name="torch.nn.functional.linear")
def linear(x, weight, bias=None):
    # PyTorch stores Linear weights as [out, in]; contract on the last axis of both.
    y = jnp.matmul(x, weight.T)
    return y if bias is None else y + bias


@defop("einsum", "contraction")
def einsum(*operands, equation):
    return jnp.einsum(equation, *operands)
