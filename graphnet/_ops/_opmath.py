"""Half precision as PyTorch's CPU kernels compute it: a float16/bfloat16 element is read
into float32 (its "opmath" type), the function is computed there and the result rounded
once. Computed in the half dtype itself, the intermediates overflow or underflow: float16
`sigmoid(-12)` was 0 (exp(12) is past float16's 65504; torch 6.1e-06) and `softplus(12)`
inf. The wrappers here are used by the kernels (pointwise.py, pointwise_extra.py), so
eager and compiled calls round alike; float32 and float64 inputs run `fn` unchanged.

Float32 results that XLA rounds unlike PyTorch are taken in float64 and rounded once
(`tanh`, `true_divide`, `in_float64`), a float32 sum on the CPU accumulates in float64
(`wide_sum`), and a bool operand beside a float one becomes a
number first (`bools_as_numbers`)."""

from __future__ import annotations

import jax
from jax import lax
import jax.numpy as jnp

HALF = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


def _is_half(x) -> bool:
    return getattr(x, "dtype", None) in HALF


def in_float32(fn):
    """Unary `fn(x, **params)` computed in float32 for a half `x` and rounded once. Its
    gradient is JAX's, in float32 too, rounded once at the input: PyTorch's backward
    kernels of these functions (silu, softplus, gelu, elu) read the input `x` and compute
    in float32 the same way."""
    def kernel(x, **params):
        if _is_half(x):
            return fn(x.astype(jnp.float32), **params).astype(x.dtype)
        return fn(x, **params)

    kernel.__name__ = getattr(fn, "__name__", "kernel")
    kernel.__doc__ = fn.__doc__
    return kernel


def in_float32_from_result(fn, backward):
    """Unary `fn` computed in float32 for a half `x` and rounded once, with the gradient
    `backward(grad, result, dtype)` from the *rounded* result (grad and result in float32,
    `dtype` the half one), as PyTorch's sigmoid_backward and tanh_backward read their saved
    half output: JAX's own gradient in float32 uses the unrounded one (1 ulp off for a
    quarter of float16 tanh's). NOTE: a vjp, not a jvp: the formula's rounding order is
    PyTorch's, which JAX's transpose of a jvp would reverse."""
    @jax.custom_vjp
    def half(x):
        return fn(x.astype(jnp.float32)).astype(x.dtype)

    def half_forward(x):
        result = half(x)
        return result, result

    def half_backward(result, grad):
        wide = backward(grad.astype(jnp.float32), result.astype(jnp.float32), result.dtype)
        return (wide.astype(result.dtype),)

    half.defvjp(half_forward, half_backward)

    def kernel(x):
        return half(x) if _is_half(x) else fn(x)

    kernel.__name__ = getattr(fn, "__name__", "kernel")
    return kernel


def sigmoid_backward(grad, y, dtype):
    """PyTorch's: float16 in c10::Half arithmetic, each operation rounded (its float16
    kernel is the generic one); bfloat16 in float32."""
    if dtype == jnp.float16:
        return round_to(round_to(grad * round_to(1 - y, dtype), dtype) * y, dtype)
    return grad * (1 - y) * y


def tanh_backward(grad, y, dtype):
    """PyTorch's, in float32 for both half dtypes."""
    return grad * (1 - y * y)


def round_to(v, dtype):
    """float32 `v` rounded to the half `dtype` and kept in float32: an intermediate that
    PyTorch rounds (its half arithmetic rounds each operation). NOTE: a pair of converts,
    not lax.reduce_precision, which flushes the half's subnormals to 0 (float16 sigmoid's
    gradient below x = -10 was 0; XLA keeps the pair, checked against NumPy)."""
    return v.astype(dtype).astype(jnp.float32)


def hypot(a, b):
    """PyTorch's hypot: float16/bfloat16 computed in float32 and rounded once (computed in
    bfloat16, hypot(1, 5) was 5.0625; torch 5.09375), with PyTorch's gradient
    grad * a / result, grad * b / result."""
    dtype = jnp.result_type(a, b)
    if dtype in HALF:
        return _half_hypot(*jnp.broadcast_arrays(jnp.asarray(a, dtype), jnp.asarray(b, dtype)))
    return _hypot(a, b)


@jax.custom_jvp
def _hypot(a, b):
    return jnp.hypot(a, b)


@_hypot.defjvp
def _hypot_jvp(primals, tangents):
    # PyTorch's a / result, b / result: NaN at (0, 0), and right for large and small
    # magnitudes (JAX's rule gave 1.25 for hypot(3e20, 4e20)'s gradient to b, -inf at 4e-20)
    (a, b), (ta, tb) = primals, tangents
    result = jnp.hypot(a, b)
    return result, ta * (a / result) + tb * (b / result)


@jax.custom_vjp
def _half_hypot(a, b):
    return jnp.hypot(a.astype(jnp.float32), b.astype(jnp.float32)).astype(a.dtype)


def _half_hypot_forward(a, b):
    result = _half_hypot(a, b)
    return result, (a, b, result)


def _half_hypot_backward(saved, grad):
    """grad * x / result as PyTorch's autograd formula computes it in the half dtype: the
    product rounded, then the quotient (through JAX's half arithmetic, float16
    hypot(x, x) at x = 1e-3 had gradient -inf; torch 1.414)."""
    a, b, result = saved
    g, r = grad.astype(jnp.float32), result.astype(jnp.float32)
    return tuple((round_to(g * x.astype(jnp.float32), x.dtype) / r).astype(x.dtype)
                 for x in (a, b))


_half_hypot.defvjp(_half_hypot_forward, _half_hypot_backward)


def half_softmax(x, dim: int, log: bool):
    """softmax (log_softmax with `log`) of a float16/bfloat16 `x` as PyTorch's CPU kernels
    compute it: in float32, rounded once. The gradient is PyTorch's softmax_backward_data
    (log_softmax_backward_data): from the *rounded* output, in float32, rounded once.
    NOTE: jax.nn.softmax of a half input computed in the half dtype: 2600 of 4000 bfloat16
    softmax values were off (up to 2.4%), and half cross-entropy with them."""
    last = x.ndim == 0 or dim % x.ndim == x.ndim - 1

    def forward(v):
        half_type, v = v.dtype, v.astype(jnp.float32)
        if log and last:
            # PyTorch's last-dim log_softmax kernel keeps the sum of exponentials and its log
            # in the half type: x - max - half(log(half(sum))), rounded (NOTE: rounded once,
            # 20-30% of the outputs were 1 ulp off; other dims are rounded once, as here)
            top = jnp.max(v, axis=dim, keepdims=True)
            total = jnp.sum(jnp.exp(v - top), axis=dim, keepdims=True)
            return v - top - round_to(jnp.log(round_to(total, half_type)), half_type)
        return (jax.nn.log_softmax(v, axis=dim) if log else jax.nn.softmax(v, axis=dim))

    @jax.custom_vjp
    def half(v):
        return forward(v).astype(v.dtype)

    def half_forward(v):
        result = half(v)
        return result, result

    def half_backward(result, grad):
        r, g = result.astype(jnp.float32), grad.astype(jnp.float32)
        if log:
            wide = g - jnp.exp(r) * jnp.sum(g, axis=dim, keepdims=True)
        else:
            wide = r * (g - jnp.sum(g * r, axis=dim, keepdims=True))
        return (wide.astype(result.dtype),)

    half.defvjp(half_forward, half_backward)
    return half(x)


_FLOAT64 = jnp.dtype(jnp.float64)


@jax.custom_jvp
def tanh(x):
    """tanh as PyTorch's float32 gives it: taken in float64 and rounded once. NOTE: XLA's
    float32 tanh is up to 4 ulp off in most elements and returns exactly +-1 from |x| ~ 7.9,
    so its gradient (and GELU-tanh's, an LSTM cell's) was 0 there where PyTorch's is 1e-7;
    the float64 one is correctly rounded and, on CPU, as fast. The slope is PyTorch's
    1 - y * y of the rounded result."""
    if x.dtype == jnp.float32 and jax.dtypes.canonicalize_dtype(_FLOAT64) == _FLOAT64:
        return jnp.tanh(x.astype(_FLOAT64)).astype(x.dtype)
    return jnp.tanh(x)


@tanh.defjvp
def _tanh_jvp(primals, tangents):
    y = tanh(primals[0])
    return y, tangents[0] * (1 - y * y)


def in_float64(fn):
    """Unary `fn` of a float32 `x` taken in float64 and rounded once (its gradient too,
    through the casts). For the special functions whose float32 versions in XLA/JAX are far
    from PyTorch's: erfc and exp2 tens of ulp off, erfinv's slope 330 ulp, lgamma 900 ulp
    near its zeros, erfcx exactly 0 on [9.19, 9.42], log_ndtr 9% off on [2.7, 5]."""
    def kernel(x, **params):
        if getattr(x, "dtype", None) == jnp.float32 and \
                jax.dtypes.canonicalize_dtype(_FLOAT64) == _FLOAT64:
            return fn(x.astype(_FLOAT64), **params).astype(jnp.float32)
        return fn(x, **params)

    kernel.__name__ = getattr(fn, "__name__", "kernel")
    kernel.__doc__ = fn.__doc__
    return kernel


def true_divide(a, b):
    """a / b, correctly rounded in float32 as PyTorch's division is.

    NOTE: XLA's simplifier turns a division by a constant or by a broadcast operand
    (`x / 255`, `x.sum() / n`) into a multiplication by its reciprocal, 1 ulp off in about
    70% of elements (`acc.sum() / 1000` gave 0.7500000596 for 750 hits). A float32 quotient
    is taken in float64 and rounded once: even as a reciprocal product its error is far below
    a float32 rounding step, so the result is the correctly rounded one, eagerly and
    compiled alike (graphnet's kernels run with 64-bit types on; without, it divides as
    JAX does). A float16 or bfloat16 quotient is PyTorch's float32 one rounded to half
    (`x.half() / 3` was 1 ulp off in a third of elements). NOTE: a float64 quotient is
    left to XLA: nothing is wider, and its reciprocal's error is 1 ulp of float64."""
    kind = jnp.result_type(a, b)
    if kind in (jnp.float32, jnp.float16, jnp.bfloat16) and \
            jax.dtypes.canonicalize_dtype(_FLOAT64) == _FLOAT64:
        wide = [jnp.asarray(x, kind).astype(jnp.float32).astype(jnp.float64) for x in (a, b)]
        return jnp.true_divide(*wide).astype(jnp.float32).astype(kind)
    return jnp.true_divide(a, b)


def strong_result(out, *operands):
    """`out` as a tensor's value, never weakly typed. A bool array beside a Python number
    (a weak int) gives JAX a weak int64: graphnet's dtype said int64 (PyTorch's), but the
    array then took a narrower tensor's type in the next op (`u8 + (mask * 300)` wrapped in
    uint8 where PyTorch gives int64, and a compiled graph refused the type it recorded)."""
    if getattr(jax.typeof(out), "weak_type", False) and any(
            getattr(x, "dtype", None) == jnp.bool_ for x in operands):
        return lax.convert_element_type(out, out.dtype)
    return out


def bools_as_numbers(fn):
    """`fn` with a bool array beside a floating one made a number first (through uint8, as
    `cast` does): XLA rewrites float(mask) * y as where(mask, y, 0), which loses PyTorch's
    0 * inf = NaN (`mask * loss` with an inf where the mask is False gave 0, eager and
    compiled; PyTorch gives NaN)."""
    def kernel(a, b):
        kinds = [getattr(x, "dtype", None) for x in (a, b)]
        if jnp.bool_ in kinds and any(k is not None and jnp.issubdtype(k, jnp.inexact)
                                      for k in kinds):
            target = jnp.result_type(*[x for x in (a, b) if x.dtype != jnp.bool_])
            a, b = (x.astype(jnp.uint8).astype(target) if x.dtype == jnp.bool_ else x
                    for x in (a, b))
        return fn(a, b)

    kernel.__name__ = getattr(fn, "__name__", "kernel")
    return kernel


def wide_sum(x, dim, keepdim):
    """The sum of `x`; on the CPU a float32 sum accumulates in float64 and is rounded once.
    NOTE: XLA's CPU code generator fuses a multiply into the reduction that consumes it and
    contracts the pair into a fused multiply-add, so a compiled `(x * x).sum()` of the unit
    vector [0.6, 0.8] was 1.0000001 (and `acos` of it NaN) where PyTorch and eager mode give
    1.0: the conversion to float64 keeps each product rounded to float32 first, as
    PyTorch's separate kernels do, and the wider sum is at least as close as PyTorch's
    cascade sum."""
    if wide_on_cpu(x):
        return jnp.sum(x.astype(jnp.float64), axis=dim, keepdims=keepdim).astype(jnp.float32)
    return jnp.sum(x, axis=dim, keepdims=keepdim)


def wide_on_cpu(*arrays) -> bool:
    """Whether float32 `arrays` are summed in float64 (wide_sum): on the CPU, with x64 on."""
    return all(x.dtype == jnp.float32 for x in arrays) and jax.default_backend() == "cpu" \
        and jax.dtypes.canonicalize_dtype(jnp.float64) == jnp.float64
