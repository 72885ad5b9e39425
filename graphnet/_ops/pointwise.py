"""Pointwise ops: arithmetic, comparisons, activations."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import kink_curvature, masked_kinks
from ._opmath import in_float32, in_float32_from_result, sigmoid_backward, tanh_backward
from ._opmath import bools_as_numbers as _bools_as_numbers
from ._opmath import strong_result
from ._opmath import true_divide
from ._opmath import in_float64 as opmath_in_float64
from ._opmath import tanh as opmath_tanh
from ._promote import as_floats, float_kernel, not_implemented, refuse_result
from ._table import defop
from .power import power


def _binary(name: str, fn, differentiable: bool = True, **names):
    defop(name, "broadcast", differentiable=differentiable, dump=True,
          **names)(_half_broadcast_in_float32(fn))


_HALF = (jnp.float16, jnp.bfloat16)


def _half_broadcast_in_float32(fn):
    """`fn` with a float16/bfloat16 operand that broadcasts (a bias `b` in `x + b`) widened
    by a float32 broadcast: the values are the same, and the gradient JAX sums back to the
    operand's shape is summed in float32 and rounded once, as PyTorch's reduction does.
    Summed in bfloat16, the bias gradient over 4096 rows was 0.69 off (torch: 2e-4)."""
    def kernel(a, b):
        if getattr(a, "dtype", None) in _HALF or getattr(b, "dtype", None) in _HALF:
            shape = jnp.broadcast_shapes(jnp.shape(a), jnp.shape(b))
            a, b = (jnp.broadcast_to(x.astype(jnp.float32), shape).astype(x.dtype)
                    if getattr(x, "dtype", None) in _HALF and jnp.shape(x) != shape else x
                    for x in (a, b))
        return strong_result(fn(a, b), a, b)

    kernel.__name__ = getattr(fn, "__name__", "kernel")
    return kernel


# NOTE: add, sub, div and pow have PyTorch's extra arguments (alpha, rounding_mode, exponent)
# and are written by hand in _math.py; the others are generated (`bind="binary"`).
_binary("add", _bools_as_numbers(jnp.add), inplace=True)
_binary("sub", _bools_as_numbers(jnp.subtract), inplace=True)
_binary("div", _bools_as_numbers(true_divide), inplace=True)


_binary("pow", power, inplace=True, backward="PowBackward0")
_binary("mul", _bools_as_numbers(jnp.multiply), inplace=True, bind="binary")
_binary("maximum", masked_kinks.maximum, inplace=True, bind="binary")
_binary("minimum", masked_kinks.minimum, inplace=True, bind="binary")
@jax.custom_vjp
def _atan2(a, b):
    return jnp.arctan2(a, b)


def _atan2_forward(a, b):
    return jnp.arctan2(a, b), (a, b)


def _atan2_backward(saved, grad):
    """PyTorch's rule: (b, -a) / (a^2 + b^2), with 0 where a = b = 0 (JAX's gave NaN)."""
    a, b = saved
    norm = a * a + b * b
    recip = jnp.where(norm == 0, 0, 1 / jnp.where(norm == 0, 1, norm))
    return (grad * b * recip).astype(a.dtype), (grad * -a * recip).astype(b.dtype)


_atan2.defvjp(_atan2_forward, _atan2_backward)
_binary("atan2", lambda a, b: _atan2(*jnp.broadcast_arrays(*as_floats(a, b))), bind="binary")
for _name, _fn, _alias in [("eq", jnp.equal, None), ("ne", jnp.not_equal, None),
                           ("lt", jnp.less, "less"), ("le", jnp.less_equal, "less_equal"),
                           ("gt", jnp.greater, "greater"), ("ge", jnp.greater_equal,
                                                            "greater_equal"),
                           ("logical_and", jnp.logical_and, None),
                           ("logical_or", jnp.logical_or, None)]:
    _names = (_name, _alias) if _alias else (_name,)
    _binary(_name, _fn, differentiable=False, function=_names, method=_names, bind="binary")


def _integer_only(kernel: str, fn):
    """`fn`, refused where its inputs promote to bool (`bool // bool`), as PyTorch does."""
    def checked(a, b):
        refuse_result(kernel, a, b, kinds="b")
        return fn(a, b)

    checked.__name__ = getattr(fn, "__name__", "kernel")
    return checked


def _floor_divide(a, b):
    """PyTorch's floor division: integers as jnp's; floats by its `div_floor_floating`, which
    keeps the sign of a zero quotient (-0.0 // 2 is -0.0; jnp gave 0.0, and 1 / it +inf)
    and rounds the quotient (a - fmod(a, b)) / b to the nearest integer."""
    out = jnp.floor_divide(a, b)
    if not jnp.issubdtype(out.dtype, jnp.floating):
        return out
    a, b = jnp.asarray(a, out.dtype), jnp.asarray(b, out.dtype)
    mod = jnp.fmod(a, b)
    div = (a - mod) / b
    div = jnp.where((mod != 0) & ((b < 0) != (mod < 0)), div - 1, div)
    floor = jnp.floor(div)
    floor = jnp.where(div - floor > 0.5, floor + 1, floor)
    floor = jnp.where(div == 0, jnp.copysign(jnp.zeros_like(div), a / b), floor)
    return jnp.where(b == 0, a / b, floor)


def _with_vjp(kernel, backward):
    """`kernel(a, b)` with PyTorch's gradient `backward(a, b, grad) -> (da, db)` for float
    results (inputs broadcast first, so the gradients have their shapes); integers as
    `kernel`."""
    @jax.custom_vjp
    def differentiable(a, b):
        return kernel(a, b)

    differentiable.defvjp(lambda a, b: (kernel(a, b), (a, b)),
                          lambda saved, grad: backward(*saved, grad))
    return masked_kinks.floats_broadcast(differentiable, kernel)


# Floor division is in autograd with zero gradients, as PyTorch's `div(rounding_mode="floor")`
# (before, the result left autograd: the divisor's .grad stayed None, so an optimizer skipped
# it where PyTorch's moves it by weight decay); PyTorch's `//` raises on backward instead.
_floor_quotient = _with_vjp(_floor_divide, lambda a, b, grad: (jnp.zeros_like(a),
                                                                jnp.zeros_like(b)))
_binary("floor_divide", _integer_only("div_floor_cpu", _floor_quotient), bind="binary")
# Truncating division of floats, PyTorch's `div(rounding_mode="trunc")`: trunc(a / b), with
# zero gradients. As `div(...).trunc()`, the zero of trunc times the quotient's derivative
# at b == 0 (inf) made NaN gradients eagerly.
_trunc_quotient = _with_vjp(lambda a, b: jnp.trunc(jnp.true_divide(a, b)),
                            lambda a, b, grad: (jnp.zeros_like(a), jnp.zeros_like(b)))
defop("trunc_divide", "broadcast", function=None, method=None)(
    _half_broadcast_in_float32(_trunc_quotient))
# The remainder (the sign of the divisor): the gradient passes to `a` unchanged and to `b`
# times minus the floored quotient. Before, `x % 2` dropped out of autograd, so `w * (x % 2)`
# gave x no gradient, silently.
_remainder = _with_vjp(jnp.remainder, lambda a, b, grad: (grad, -grad * _floor_divide(a, b)))
_binary("remainder", _integer_only("remainder_cpu", _remainder), inplace=True, bind="binary")


@defop("where", "broadcast", nondiff_inputs=(0,), dump=True)
def where(cond, a, b):
    return jnp.where(cond, a, b)


@jax.custom_jvp
def _abs(x):
    return jnp.abs(x)


# PyTorch's gradient of |x| is sign(x): 0 at 0 (JAX's is 1 there) and at NaN (JAX's sign is
# NaN there, so `where(t.isnan(), 0, (p - t).abs())` gave p a NaN gradient)
_abs.defjvps(lambda tangent, _, x: tangent * _sign(x))


def _refusing_bool(kernel: str, fn):
    """`fn` with PyTorch's refusal of a bool input (`"abs_cpu" not implemented for 'Bool'`)."""
    def checked(x):
        if x.dtype == jnp.bool_:
            raise not_implemented(kernel, x.dtype)
        return fn(x)

    checked.__name__ = getattr(fn, "__name__", "kernel")
    return checked


def _neg(x):
    if x.dtype == jnp.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return jnp.negative(x)


def _relu(x):
    if x.dtype == jnp.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    # NOTE: PyTorch's relu keeps x unless x < 0, so relu(-0.) is -0. (jax.nn.relu's max(x, 0)
    # gave 0.); its slope is 0 where x <= 0 and 1 elsewhere, NaN included (jax.nn.relu's was
    # 0 at NaN). x * 0 keeps -0.'s sign; stop_gradient, or its slope would be the product's,
    # 0 * grad, and an inf grad (sqrt(relu(x)) at 0) NaN where PyTorch's select gives 0.
    zero_keeping_sign = jax.lax.stop_gradient(x * 0)
    return jnp.where(x <= 0, jnp.where(x < 0, jnp.zeros((), x.dtype), zero_keeping_sign), x)


def _square(x):
    # PyTorch squares a bool tensor as int64 (JAX: int32)
    return jnp.square(x.astype(jnp.int64) if x.dtype == jnp.bool_ else x)


def _sign(x):
    if x.dtype == jnp.bool_:
        return x
    if jnp.issubdtype(x.dtype, jnp.floating):     # PyTorch's sign(NaN) and sign(-0.) are 0.
        return jnp.where(jnp.isnan(x) | (x == 0), jnp.zeros((), x.dtype), jnp.sign(x))
    return jnp.sign(x)


def _unary(name: str, fn, differentiable: bool = True, inplace: bool = False, **names):
    names.setdefault("bind", "unary")
    names.setdefault("dump", True)
    defop(name, "elementwise", differentiable=differentiable, inplace=inplace, **names)(fn)


_unary("neg", _neg, inplace=True, function=("neg", "negative"),
       method=("neg", "negative"), backward="NegBackward0")
_unary("relu", _relu, inplace=True, function=("relu", "nn.functional.relu"),
       dump="nn.functional.relu")
# NOTE: float16/bfloat16 activations are computed in float32 and rounded once (_opmath.py);
# sigmoid and tanh take their gradient from the rounded result, as PyTorch's backward does
_unary("sigmoid", float_kernel(in_float32_from_result(jax.nn.sigmoid, sigmoid_backward)),
       inplace=True, function=("sigmoid", "nn.functional.sigmoid"))
_unary("tanh", float_kernel(in_float32_from_result(opmath_tanh, tanh_backward)), inplace=True,
       function=("tanh", "nn.functional.tanh"))
def _relu6(x):
    # integers stay integers, as in PyTorch (jax.nn.relu6 made int64 input float64); floats
    # take hardtanh's form: gradient 1 except at or beyond a bound, so a NaN passes it on
    if jnp.issubdtype(x.dtype, jnp.integer):
        return jnp.clip(x, 0, 6)
    return jnp.where(x <= 0, 0, jnp.where(x >= 6, 6, x)).astype(x.dtype)


# only in nn.functional, written there
# NOTE: PyTorch's relu6 is hardtanh(x, 0, 6), and its node HardtanhBackward0
_unary("relu6", _relu6, function="nn.functional.relu6", method=None, bind=None,
       backward="HardtanhBackward0")
_unary("silu", in_float32(jax.nn.silu), function="nn.functional.silu", method=None, bind=None)
# NOTE: float_kernel: integer and bool input gives float32, as in PyTorch (JAX: float64)
for _name, _fn in [("exp", float_kernel(jnp.exp)), ("log", float_kernel(jnp.log)),
                   ("sqrt", float_kernel(jnp.sqrt)), ("abs", _refusing_bool("abs_cpu", _abs)),
                   ("square", _square),
                   ("reciprocal", float_kernel(jnp.reciprocal))]:
    # PyTorch's square is pow(x, 2): its grad_fn is PowBackward0
    _unary(_name, _fn, inplace=True, backward="PowBackward0" if _name == "square" else None)
for _name, _fn in [("rsqrt", jax.lax.rsqrt), ("sin", jnp.sin), ("cos", jnp.cos),
                   ("erf", jax.scipy.special.erf), ("log1p", jnp.log1p), ("expm1", jnp.expm1),
                   ("log2", jnp.log2), ("exp2", opmath_in_float64(jnp.exp2))]:
    _unary(_name, float_kernel(_fn), backward="Log1PBackward0" if _name == "log1p" else None)
# NOTE: piecewise-constant, yet differentiable with a zero gradient, as in PyTorch: their
# results require grad, so `x.round().sum().backward()` gives zeros instead of raising
for _name, _fn in [("sign", _sign), ("floor", _refusing_bool("floor_vml_cpu", jnp.floor)),
                   ("ceil", _refusing_bool("ceil_vml_cpu", jnp.ceil)),
                   ("round", _refusing_bool("round_vml_cpu", jnp.round))]:
    _unary(_name, _fn, inplace=True)
_unary("trunc", _refusing_bool("trunc_vml_cpu", jnp.trunc))
for _name, _fn in [("logical_not", jnp.logical_not),
                   ("isnan", jnp.isnan), ("isinf", jnp.isinf)]:
    _unary(_name, _fn, differentiable=False)


@defop("clone", "elementwise", function=None, backward="CloneBackward0")
def clone(x):
    return jnp.array(x, copy=True)


@defop("detach", "elementwise", differentiable=False, function=None, method=None)
def detach(x):
    """Only in traced graphs: the point where `.detach()`, `no_grad()` or a frozen tensor cut a
    gradient that the graph's structure alone would let through (see compiler/autodiff.py)."""
    return jax.lax.stop_gradient(x)


@defop("cast", "elementwise", function=None, method="to", backward="ToCopyBackward0")
def cast(x, *, dtype):
    if x.dtype == jnp.bool_ and jnp.issubdtype(dtype, jnp.inexact):
        # through uint8: XLA rewrites float(mask) * y as where(mask, y, 0), which drops
        # PyTorch's NaN for 0 * inf and its -0.0 (compiled `mask.float() * y` gave 0
        # where eager mode and PyTorch give NaN)
        return x.astype(jnp.uint8).astype(dtype)
    if jnp.issubdtype(x.dtype, jnp.floating) and jnp.dtype(dtype) in _WRAPPING_INTS:
        return _float_to_int(x, jnp.dtype(dtype))
    return x.astype(dtype)


# Float -> integer as PyTorch's CPU kernels convert (C's cast on x86): truncate into int32
# (int64 for int64), where NaN and values out of its range give its minimum, then keep the
# low bits. XLA saturates instead: `(x * 255).to(uint8)` of 257.5 gave 255 where torch gives 1.
_WRAPPING_INTS = frozenset(jnp.dtype(d) for d in (jnp.int8, jnp.uint8, jnp.int16, jnp.int32,
                                                   jnp.int64))


def _float_to_int(x, dtype):
    wide = jnp.dtype(jnp.int64) if dtype == jnp.int64 else jnp.dtype(jnp.int32)
    info = jnp.iinfo(wide)
    t = jnp.trunc(x)
    bad = jnp.isnan(x) | (t >= -float(info.min)) | (t < float(info.min))
    out = jnp.where(bad, jnp.asarray(info.min, wide), jnp.where(bad, 0, t).astype(wide))
    return out.astype(dtype)


@defop("clamp", "elementwise", function=("clamp", "clip"), method=("clamp", "clip"),
       inplace=True, dump=True, backward="ClampBackward1")   # PyTorch's clamp(Scalar, Scalar)
def clamp(x, *, min=None, max=None):
    return clamp_between(x, min, max)


def _float(bound) -> bool:
    return isinstance(bound, float) or jnp.issubdtype(jnp.result_type(bound), jnp.inexact)


def clamp_between(x, low, high):
    """x clamped to [low, high] (either may be None) with PyTorch's gradient: 1 where
    low <= x <= high, bounds included (`jnp.clip` gives 0.5 at a bound), 0 at a NaN x (which
    stays NaN); a NaN bound gives NaN, with no gradient to it or to x (PyTorch masks the
    bound's gradient with x < low, false at NaN); with low > high every element is high, as
    min(max(x, low), high)."""
    def nan_of(bound, rest):
        return jnp.where(jnp.isnan(bound), jax.lax.stop_gradient(bound), rest)

    out = x
    if low is not None:
        out = jnp.where(out < low, low, nan_of(low, out) if _float(low) else out)
    if high is not None:
        out = jnp.where(out > high, high, nan_of(high, out) if _float(high) else out)
    if jnp.issubdtype(x.dtype, jnp.inexact):
        out = jnp.where(jnp.isnan(x), jax.lax.stop_gradient(x), out)
    return out.astype(jnp.result_type(x, *[b for b in (low, high) if b is not None]))


@defop("leaky_relu", "elementwise", function="nn.functional.leaky_relu", method=None, dump=True)
def leaky_relu(x, *, negative_slope=0.01):
    return jnp.where(x > 0, x, x * negative_slope)   # at 0 the slope's gradient, as PyTorch


@defop("elu", "elementwise", function="nn.functional.elu", method=None, dump=True)
@in_float32
def elu(x, *, alpha=1.0):
    # NOTE: where, not minimum(x, 0), inside: minimum splits its gradient at 0, where PyTorch
    # takes the negative side's (alpha). PyTorch's test is x <= 0, so a NaN takes the
    # positive side, slope 1 (with x > 0 its slope was exp(NaN): NaN through a where mask)
    return kink_curvature.elu(x, float(alpha))    # PyTorch's derivatives at the kink


@defop("gelu", "elementwise", function="nn.functional.gelu", method=None, dump=True)
@in_float32
def gelu(x, *, approximate="none"):
    if approximate == "tanh":   # with the accurate tanh (jax.nn.gelu's saturated early)
        inner = 0.7978845608028654 * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1 + opmath_tanh(inner))
    return jax.nn.gelu(x, approximate=False)


@defop("softplus", "elementwise", function="nn.functional.softplus", method=None, dump=True)
@in_float32
def softplus(x, *, beta=1.0, threshold=20.0):
    # PyTorch reverts to the identity above `threshold` for numerical stability; its
    # derivatives at the threshold: kink_curvature.py
    return kink_curvature.softplus(x, float(beta), float(threshold))


@defop("hardtanh", "elementwise", function="nn.functional.hardtanh", method=None, dump=True)
def hardtanh(x, *, min_val=-1.0, max_val=1.0):
    # PyTorch's gradient is 1 strictly inside (min_val, max_val), 0 at the bounds
    return jnp.where(x <= min_val, min_val, jnp.where(x >= max_val, max_val, x)).astype(x.dtype)


@defop("prelu", "broadcast", function="nn.functional.prelu", method=None, dump=True,
       backward="PreluKernelBackward0")
def prelu(x, weight):
    # weight has one entry per channel (dim 1) or a single entry for all channels
    if weight.size > 1 and x.ndim > 1:
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    elif x.ndim == 0:   # a 0-d input stays 0-d (its single slope broadcast made it [1])
        weight = weight.reshape(())
    return jnp.where(x > 0, x, weight * x)   # at 0 the weight's slope, as PyTorch
