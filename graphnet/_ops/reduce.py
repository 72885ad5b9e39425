"""Reductions and normalising ops (softmax family)."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ._dim_rules import check_nonempty_reduction, scalar_as_one_element
from ._opmath import _is_half, half_softmax, true_divide, wide_sum
from ._promote import as_float, category, not_implemented
from ._table import defop
from .distance import vector_norm
from .extreme_grads import chosen_extreme


@defop("sum", "reduction", dump=True)
@scalar_as_one_element
def sum_(x, *, dim=None, keepdim=False, dtype=None):
    if dtype is not None and jnp.dtype(dtype) in (jnp.float16, jnp.bfloat16):
        # as PyTorch: the input rounded to `dtype`, summed in float32, the sum rounded (JAX's
        # dtype= summed in float16: [1.8, 2.1, -4.5] gave -0.6016, PyTorch -0.6006)
        wide = x.astype(dtype).astype(jnp.float32)
        return jnp.sum(wide, axis=dim, keepdims=keepdim).astype(dtype)
    if dtype is None or jnp.dtype(dtype) == x.dtype and jnp.issubdtype(x.dtype, jnp.floating):
        return wide_sum(x, dim, keepdim)
    # NOTE: an integer or bool dtype= sums in that dtype, wrapping as PyTorch's (int8's own
    # dtype= gave an int64 sum; uint8's a uint64 graphnet has no name for)
    return jnp.sum(x, axis=dim, keepdims=keepdim, dtype=dtype)


@defop("mean", "reduction", dump=True)
@scalar_as_one_element
def mean(x, *, dim=None, keepdim=False, dtype=None):
    if jnp.result_type(x if dtype is None else dtype) != jnp.float32:
        return jnp.mean(x, axis=dim, keepdims=keepdim, dtype=dtype)
    # the sum divided by the count with PyTorch's rounding (_opmath.true_divide): jnp.mean's
    # reciprocal product gave 0.7500000596 for an accuracy of 750 in 1000
    axes = range(x.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    count = math.prod(x.shape[a] for a in axes)
    return true_divide(wide_sum(x.astype(jnp.float32), dim, keepdim), count)


@defop("prod", "reduction", dump=True)
@scalar_as_one_element
def prod(x, *, dim=None, keepdim=False):
    # in x's own dtype, as PyTorch (`prod(dtype=int8)` wraps in int8; NumPy's rule gave int64)
    return jnp.prod(x, axis=dim, keepdims=keepdim, dtype=x.dtype)


@defop("amax", "reduction", dump=True, backward="AmaxBackward0")
@scalar_as_one_element
def amax(x, *, dim=None, keepdim=False, share_nan=False):
    """`share_nan`: PyTorch's max() of all elements, whose gradient a NaN result gives to the
    NaN elements (without it, as amax's, the gradient of a NaN result is NaN)."""
    check_nonempty_reduction("amax", x, dim)
    return chosen_extreme(jnp.max, x, dim, keepdim, share_nan)


@defop("amin", "reduction", dump=True, backward="AminBackward0")
@scalar_as_one_element
def amin(x, *, dim=None, keepdim=False, share_nan=False):
    check_nonempty_reduction("amin", x, dim)
    return chosen_extreme(jnp.min, x, dim, keepdim, share_nan)


@defop("argmax", "reduction", differentiable=False, dump=True)
@scalar_as_one_element
def argmax(x, *, dim=None, keepdim=False):
    if x.dtype == jnp.bool_:
        raise RuntimeError("argmax(): does not support bool input")
    check_nonempty_reduction("argmax", x, dim, arg=True)
    return jnp.argmax(x, axis=dim, keepdims=keepdim).astype(jnp.int64)


@defop("argmin", "reduction", differentiable=False, dump=True)
@scalar_as_one_element
def argmin(x, *, dim=None, keepdim=False):
    if x.dtype == jnp.bool_:
        raise RuntimeError("argmin(): does not support bool input")
    check_nonempty_reduction("argmin", x, dim, arg=True)
    return jnp.argmin(x, axis=dim, keepdims=keepdim).astype(jnp.int64)


@defop("var", "reduction", dump=True)
@scalar_as_one_element
def var(x, *, dim=None, correction=1, keepdim=False):
    # PyTorch divides by max(N - correction, 0): a correction past the count gives inf (and
    # 0/0 = NaN for equal values); jnp.var gave NaN
    if x.dtype in _HALF:   # see _HALF: accumulated in float32, rounded once
        return var(x.astype(jnp.float32), dim=dim, correction=correction,
                   keepdim=keepdim).astype(x.dtype)
    # a float32 variance is taken in float64 and rounded once, as PyTorch's CPU kernel
    # accumulates it in double: a float32 sum's error, squared into every term, made
    # features around 1e5 100x less accurate, and the squares of 1e-20 (1e21) underflowed to
    # 0 (overflowed to inf) where PyTorch's variance is finite
    if x.dtype == jnp.float32 and jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64:
        return var(x.astype(jnp.float64), dim=dim, correction=correction,
                   keepdim=keepdim).astype(x.dtype)
    mean = jnp.mean(x, axis=dim, keepdims=True)   # (JAX's error for a dim out of range)
    count = x.size // max(mean.size, 1)
    centred = x - mean
    squares = jnp.sum(centred * centred, axis=dim, keepdims=keepdim)
    return squares / max(count - correction, 0)


@defop("std", "reduction", dump=True)
@scalar_as_one_element
def std(x, *, dim=None, correction=1, keepdim=False):
    wide = x.astype(jnp.float32) if x.dtype in _HALF else x
    if x.dtype == jnp.float32 and jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64:
        wide = x.astype(jnp.float64)    # the root of the float64 variance, rounded once
    out = _sqrt_flat_at_zero(var(wide, dim=dim, correction=correction, keepdim=keepdim))
    return out.astype(x.dtype)


# NOTE: PyTorch reduces float16/bfloat16 variances in float32 and rounds the result once:
# the sum of squares of 5000 values in [0, 100] is ~4e6, past float16's 65504, so summing
# (or even rounding the sum) in half precision gave inf where PyTorch gives 834
_HALF = (jnp.float16, jnp.bfloat16)


@jax.custom_jvp
def _sqrt_flat_at_zero(v):
    """sqrt whose slope at 0 is 0, as PyTorch's std_backward masks a zero std: the variance's
    own gradient is 0 there, and 0 * inf made every gradient of a constant row NaN."""
    return jnp.sqrt(v)


@_sqrt_flat_at_zero.defjvp
def _sqrt_flat_at_zero_jvp(primals, tangents):
    (v,), (t,) = primals, tangents
    out = jnp.sqrt(v)
    zero = out == 0
    return out, t * jnp.where(zero, 0, 0.5 / jnp.where(zero, 1, out)).astype(out.dtype)


@defop("norm", "reduction", dump=True, backward="LinalgVectorNormBackward0")
@scalar_as_one_element
def norm(x, *, p=2.0, dim=None, keepdim=False):
    # PyTorch's norm_backward: the gradient at a zero norm is 0, not 0/0 = NaN
    return vector_norm(x, float(p), dim, keepdim)


@defop("logsumexp", "reduction", dump=True)
@scalar_as_one_element
def logsumexp(x, *, dim, keepdim=False):
    return _logsumexp(as_float(x), dim, keepdim)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _logsumexp(x, dim, keepdim):
    return jax.scipy.special.logsumexp(x, axis=dim, keepdims=keepdim)


@_logsumexp.defjvp
def _logsumexp_jvp(dim, keepdim, primals, tangents):
    """PyTorch's derivative, exp(x - result) from the rounded result: at 1e8 it is 1 for each
    of two equal entries, not the softmax's 0.5, and an infinite entry leaves the finite ones
    a 0 (NaN through the softmax)."""
    (x,), (t,) = primals, tangents
    y = _logsumexp(x, dim, keepdim)
    axes = range(x.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    kept = y if keepdim else jnp.expand_dims(y, tuple(a % max(x.ndim, 1) for a in axes))
    return y, jnp.sum(t * jnp.exp(x - kept), axis=dim, keepdims=keepdim)


@defop("softmax", "reduction", function=("softmax", "nn.functional.softmax"), dump=True)
@scalar_as_one_element
def softmax(x, *, dim):
    _floats_only("softmax", x, dim)
    if _is_half(x):
        return half_softmax(x, dim, log=False)
    return jax.nn.softmax(x, axis=dim)


def _floats_only(name: str, x, dim: int) -> None:
    """PyTorch's refusal of integer and bool input, named after the kernel it would pick."""
    if category(x) != "f":
        last = x.ndim <= 1 or dim % x.ndim == x.ndim - 1
        raise not_implemented(f"{name}_{'lastdim_' if last else ''}kernel_impl", x.dtype)


@defop("log_softmax", "reduction",
       function=("log_softmax", "nn.functional.log_softmax"), dump=True)
@scalar_as_one_element
def log_softmax(x, *, dim):
    _floats_only("log_softmax", x, dim)
    if _is_half(x):
        return half_softmax(x, dim, log=True)
    return jax.nn.log_softmax(x, axis=dim)


# NOTE: a scan, not a reduction: it keeps the axis it runs along, so fuse.py must not
# treat it as the end of a reduction kernel; XLA lowers it as a kernel of its own.
@defop("cumsum", "opaque", dump=True)
def cumsum(x, *, dim, dtype=None):
    return half_scan(jnp.cumsum, x, dim, dtype)


def half_scan(scan, x, dim, dtype):
    """`scan` (cumsum, cumprod) of a float16/bfloat16 result accumulated in float32 and
    rounded per element, as PyTorch does: accumulating in half drifted (5000 x 0.1 summed to
    498.5 in float16, PyTorch's 500). On the CPU a float32 result is accumulated in float64,
    as PyTorch's CPU kernel does (its accumulate type): in float32, 72% of a 100000-element
    cumsum was an ulp or more off, and `log(1 - cdf[-1])` of a normalised cdf came out NaN
    where PyTorch's is finite. (PyTorch's CUDA kernel accumulates in float32, and so does
    this one on a GPU.)"""
    out = jnp.dtype(dtype) if dtype is not None else x.dtype
    if out in (jnp.float16, jnp.bfloat16):   # the input rounded to `out` first, as PyTorch
        return scan(x.astype(out).astype(jnp.float32), axis=dim).astype(out)
    if out == jnp.float32 and jax.default_backend() == "cpu" and \
            jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64:
        return scan(x.astype(out).astype(jnp.float64), axis=dim).astype(out)
    return scan(x, axis=dim, dtype=dtype)


@defop("all", "reduction", differentiable=False, dump=True)
@scalar_as_one_element
def all_(x, *, dim=None, keepdim=False):
    return jnp.all(x, axis=dim, keepdims=keepdim)


@defop("any", "reduction", differentiable=False, dump=True)
@scalar_as_one_element
def any_(x, *, dim=None, keepdim=False):
    return jnp.any(x, axis=dim, keepdims=keepdim)
