"""PyTorch's rule that a contraction's or normalisation's operands share one dtype.

JAX promotes `float32 @ float64` to float64 and `int64 @ float32` to float32; PyTorch refuses
both (`nn.Linear(...)(x.double())`: "mat1 and mat2 must have the same dtype"), and refuses
bool products. The kernels call these at trace time (dtypes are static), so eager and
compiled calls raise the same error, in PyTorch's words for the kernel it would pick."""

from __future__ import annotations

import jax.numpy as jnp

from ._promote import cpp_name, not_implemented, torch_name


def check_matmul(a, b) -> None:
    """`a @ b` (matmul, mm, bmm, mv, dot), by the kernel PyTorch's matmul dispatches to."""
    if a.ndim == 0 or b.ndim == 0:   # `tensor(2.) @ v` broadcast into a sum (the wide path)
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        kernel = "dot"
        message = (f"dot : expected both vectors to have same dtype, but found "
                   f"{torch_name(a.dtype)} and {torch_name(b.dtype)}")
    elif a.ndim >= 2 and b.ndim == 1:
        kernel = "addmv_impl_cpu"
        message = (f"addmv input tensors must have the same dtype, but got "
                   f"{torch_name(b.dtype)}, {torch_name(a.dtype)}, and {torch_name(b.dtype)}")
    elif b.ndim <= 2:     # 1-D @ 2-D and N-D @ 2-D fold into one matrix product
        kernel = "addmm_impl_cpu_"
        message = (f"expected m1 and m2 to have the same dtype, but got: {cpp_name(a.dtype)} "
                   f"!= {cpp_name(b.dtype)}")
    else:
        kernel = "bmm"
        message = (f"expected scalar type {torch_name(a.dtype)} but found "
                   f"{torch_name(b.dtype)}")
    if a.dtype != b.dtype:
        raise RuntimeError(message)
    if a.dtype == jnp.bool_:
        raise not_implemented(kernel, a.dtype)


def check_linear(x, weight, bias) -> None:
    """F.linear: with a bias PyTorch runs addmm, without it matmul."""
    if bias is None:
        check_matmul(x, weight.T)
        return
    if x.dtype != weight.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{torch_name(x.dtype)} and {torch_name(weight.dtype)}")
    if bias.dtype != weight.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{torch_name(bias.dtype)} and {torch_name(weight.dtype)}")
    if x.dtype == jnp.bool_:
        raise not_implemented("addmm_impl_cpu_", x.dtype)


def check_same(operands, contracts: bool = True) -> None:
    """einsum and bilinear: every operand in the first one's dtype; bool refused where
    operands are contracted (`bmm`), not where they are only multiplied."""
    first = operands[0].dtype
    for x in operands[1:]:
        if x.dtype != first:
            raise RuntimeError(f"expected scalar type {torch_name(first)} but found "
                               f"{torch_name(x.dtype)}")
    if contracts and len(operands) > 1 and first == jnp.bool_:
        raise not_implemented("bmm", first)


def check_conv(x, weight, bias, transposed: bool = False) -> None:
    if bias is not None and x.dtype != bias.dtype and not transposed:
        raise RuntimeError(f"Input type ({cpp_name(x.dtype)}) and bias type "
                           f"({cpp_name(bias.dtype)}) should be the same")
    for other in (weight, bias):
        if other is not None and other.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {torch_name(x.dtype)} but found "
                               f"{torch_name(other.dtype)}")
    if x.dtype == jnp.bool_ or (transposed and x.dtype != jnp.int64 and
                                jnp.issubdtype(x.dtype, jnp.integer)):
        raise not_implemented("slow_conv_transpose2d_out_cpu" if transposed
                              else "slow_conv2d_cpu", x.dtype)


def check_norm(x, params, kernel: str) -> None:
    """layer/group/batch norm: affine parameters and running statistics in the input's dtype,
    or float32 beside a float16/bfloat16 input (PyTorch's mixed-precision kernels); integer
    and bool input refused by the kernel's name."""
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise not_implemented(kernel, x.dtype)
    reduced = x.dtype in (jnp.float16, jnp.bfloat16)
    for p in params:
        if p is None or p.dtype == x.dtype or (reduced and p.dtype == jnp.float32):
            continue
        if reduced or x.dtype == jnp.float32:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               "Float")
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
