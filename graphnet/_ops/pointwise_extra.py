"""More pointwise ops: inverse trigonometric and hyperbolic functions, special functions,
bitwise and integer arithmetic, NaN-aware min/max, floating-point manipulation.

Most are plain one-op wrappers (`bind="unary"`/`"binary"`: graphnet's function, Tensor method
and in-place method are generated from the entry). Dtype rules follow PyTorch, applied at
trace time (`_promote.py`): float-valued functions of integer input give float32; bitwise
ops refuse floats and float-only ops refuse integers with PyTorch's NotImplementedError.
Ops with extra arguments (polygamma's order, logit's eps, nan_to_num's replacements ...) are
in pointwise_special.py."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jss

from . import _opmath as opmath
from . import pointwise_special  # noqa: F401  (registration: polygamma, logit, lerp ...)
from ._promote import as_float, as_floats, as_result_type, float_kernel, refuse, refuse_result
from ._table import defop
from .power import _float_power as torch_slopes_power


def _unary(names, fn, differentiable: bool = True, inplace: bool = True, **kw):
    names = (names,) if isinstance(names, str) else names
    kw.setdefault("bind", "unary")
    defop(names[0], "elementwise", differentiable=differentiable, inplace=inplace, dump=True,
          function=names, method=names, **kw)(fn)


def _binary(names, fn, differentiable: bool = True, inplace: bool = True, **kw):
    names = (names,) if isinstance(names, str) else names
    defop(names[0], "broadcast", differentiable=differentiable, inplace=inplace, dump=True,
          function=names, method=names, bind="binary", **kw)(fn)


# NOTE: JAX's i0 differentiates exp(|x|) * i0e(x) and gets 1 at x = 0 from |x|'s subgradient;
# the derivative of I0 is I1 everywhere (0 at 0), which PyTorch uses.
@jax.custom_jvp
def _i0(x):
    return jss.i0(x)


_i0.defjvp(lambda primals, tangents: (_i0(primals[0]), jss.i1(primals[0]) * tangents[0]))


@jax.custom_jvp
def _sinc(x):
    return jnp.sinc(x)


@_sinc.defjvp
def _sinc_jvp(primals, tangents):
    # PyTorch's (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at 0 whatever the incoming
    # gradient (JAX's series gave 1e8 at x = 1e-15 and NaN for a NaN gradient at 0)
    (x,), (t,) = primals, tangents
    # NOTE: near 0 (|x| < 1e-6) the slope is 0 to within rounding, as PyTorch gives it; the
    # formula's px * safe underflowed to 0 there and the slope was 0/0 = NaN (x = 1e-20)
    tiny = jnp.abs(x) < 1e-6
    safe = jnp.where(tiny, jnp.ones((), x.dtype), x)
    px = jnp.pi * safe
    slope = (px * jnp.cos(px) - jnp.sin(px)) / (px * safe)
    return jnp.sinc(x), jnp.where(tiny, jnp.zeros((), t.dtype), t * slope)


@jax.custom_jvp
def _lgamma(x):
    return jax.lax.lgamma(x)


# its slope is PyTorch's digamma: -inf at 0 and +inf at -0, where JAX's gave NaN (a
# negative-binomial NLL's lgamma(theta) at theta = 0)
_lgamma.defjvp(lambda primals, tangents: (jax.lax.lgamma(primals[0]),
                                          tangents[0] * torch_digamma(primals[0])))


# ---- float-valued functions of one input (integer input gives float32) ---------------------
for _names, _fn in [(("asin", "arcsin"), jnp.arcsin), (("acos", "arccos"), jnp.arccos),
                    (("atan", "arctan"), jnp.arctan), ("sinh", jnp.sinh), ("cosh", jnp.cosh),
                    ("tan", jnp.tan), (("asinh", "arcsinh"), jnp.arcsinh),
                    (("acosh", "arccosh"), jnp.arccosh), (("atanh", "arctanh"), jnp.arctanh),
                    ("erfc", opmath.in_float64(jss.erfc)),
                    ("erfinv", opmath.in_float64(jss.erfinv)),
                    ("lgamma", opmath.in_float64(_lgamma)),
                    ("i0", _i0), ("sinc", _sinc), ("deg2rad", jnp.deg2rad),
                    ("rad2deg", jnp.rad2deg), ("log10", jnp.log10)]:
    _unary(_names, float_kernel(_fn))


def torch_digamma(x):
    """digamma with PyTorch's poles at zero: -inf at 0 and +inf at -0 (since 1.8), where
    the series gives NaN (and graphnet gave -inf at -0)."""
    pole = jnp.where(jnp.signbit(x), jnp.inf, -jnp.inf).astype(x.dtype)
    return jnp.where(x == 0, pole, jax.lax.digamma(x))


@float_kernel
def _digamma(x):
    """digamma, whose gradient is PyTorch's trigamma (inf at 0, 0 at +inf): polygamma(0)."""
    from .pointwise_special import polygamma_of

    return polygamma_of(x, 0)


_unary("digamma", _digamma)


def _frac(x):
    refuse("frac", x, kinds="bi")
    return x - jnp.trunc(x)


_unary("frac", _frac)


def _positive(x):
    if x.dtype == jnp.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


_unary("positive", _positive, inplace=False)


def _bitwise_not(x):
    refuse("bitwise_not", x, kinds="f")
    return jnp.logical_not(x) if x.dtype == jnp.bool_ else jnp.bitwise_not(x)


_unary("bitwise_not", _bitwise_not, differentiable=False)

# ---- predicates: bool results, no gradient --------------------------------------------------
for _names, _fn in [("signbit", jnp.signbit), ("isfinite", jnp.isfinite),
                    ("isposinf", jnp.isposinf), ("isneginf", jnp.isneginf),
                    ("isreal", lambda x: jnp.ones(jnp.shape(x), jnp.bool_))]:
    _unary(_names, _fn, differentiable=False, inplace=False)

# ---- two inputs ---------------------------------------------------------------------------


def x_log(log, edge: float):
    """x * log(y) (`log` is jnp.log or jnp.log1p) with PyTorch's values and gradients: 0
    where x is 0 unless y is NaN; d/dx = log(y) (0 where x is 0 and y <= `edge`, where the
    log is -inf or NaN), d/dy = x / (y - edge - 1 + 1), which is NaN at x = 0 on the edge,
    as in torch. (JAX's gradient of the masked product gave 0 for d/dx at x = 0.)"""
    def times_log(a, b):      # a * log(b), 0 where a is 0 and b is not NaN
        safe = jnp.where(a == 0, edge + 2, b)     # any point where the log is finite
        return jnp.where(jnp.isnan(b), jnp.nan, jnp.where(a == 0, 0, a * log(safe)))

    @jax.custom_vjp
    def product(x, y):
        return times_log(x, y)

    def forward(x, y):
        return times_log(x, y), (x, y)

    def backward(saved, grad):
        x, y = saved
        # linear in `grad` where the log is finite, so that a derivative of this backward
        # (func.jvp, hvp: graphnet's forward mode) sees d/dx = log(y), not times_log's 0 at 0
        log_y = log(jnp.where(y > edge, y, edge + 2))
        linear = jnp.isfinite(log_y) & (y > edge)
        dx = jnp.where(linear, grad * log_y, times_log(grad, y))
        dx = jnp.where((x == 0) & (y <= edge), 0, dx)
        return dx.astype(x.dtype), (grad * x / (y - edge)).astype(y.dtype)

    product.defvjp(forward, backward)

    def kernel(x, y):
        return product(*jnp.broadcast_arrays(*as_floats(x, y)))

    return kernel


_binary("xlogy", x_log(jnp.log, 0.0))


def _float_only(name: str, fn):
    def kernel(a, b):
        # NOTE: by the result's dtype, as PyTorch picks its kernel: `hypot(int, float)` runs
        refuse_result(f"{name}_cpu", a, b, kinds="bi")
        dtype = jnp.result_type(a, b)
        return fn(jnp.asarray(a, dtype), jnp.asarray(b, dtype))

    return kernel


_binary("hypot", _float_only("hypot", opmath.hypot))


def _log_add(name: str, add, exp):
    """`add` (jnp.logaddexp or logaddexp2) with PyTorch's gradient, grad / (1 + exp(other -
    self)) for each input: 1 for an infinite input beside a finite one, 0 for the finite one,
    NaN where both are the same infinity (inf - inf). JAX's own gave the finite input exp(x)
    beside a +inf, and 1/2 to each of (inf, inf)."""
    @jax.custom_jvp
    def log_add(a, b):
        return add(a, b)

    @log_add.defjvp
    def log_add_jvp(primals, tangents):
        (a, b), (ta, tb) = primals, tangents
        return add(a, b), ta / (1 + exp(b - a)) + tb / (1 + exp(a - b))

    def kernel(a, b):
        refuse_result(f"{name}_cpu", a, b, kinds="bi")
        dtype = jnp.result_type(a, b)
        return log_add(jnp.asarray(a, dtype), jnp.asarray(b, dtype))

    return kernel


_binary("logaddexp", _log_add("logaddexp", jnp.logaddexp, jnp.exp), inplace=False)
_binary("logaddexp2", _log_add("logaddexp2", jnp.logaddexp2, jnp.exp2), inplace=False)


@jax.custom_jvp
def _nextafter(a, b):
    return jnp.nextafter(a, b)


@_nextafter.defjvp
def _nextafter_jvp(primals, tangents):
    """PyTorch's gradient: the input's passes unchanged, `other` gets none (before, the
    result left autograd, so `nextafter(x, y) + x` gave x half its gradient silently)."""
    out = jnp.nextafter(*primals)
    return out, jnp.broadcast_to(tangents[0], out.shape).astype(out.dtype)


_binary("nextafter", _float_only("nextafter", _nextafter))
_binary("igamma", _float_only("igamma", jss.gammainc))
_binary("igammac", _float_only("igammac", jss.gammaincc))


def _fmod(a, b):
    refuse_result("fmod_cpu", a, b, kinds="b")
    return jnp.fmod(*as_result_type(a, b))


_binary("fmod", _fmod)


@jax.custom_jvp
def _copysign(a, b):
    return jnp.copysign(a, b)


@_copysign.defjvp
def _copysign_jvp(primals, tangents):
    # PyTorch's gradient: result / self for `a`, 0 where a == 0 (JAX's was +-1 there); none
    # for `b`
    (a, b), (ta, _) = primals, tangents
    out = jnp.copysign(a, b)
    slope = jnp.where(a == 0, jnp.zeros((), out.dtype), out / jnp.where(a == 0, 1, a))
    return out, ta * slope


_binary("copysign", lambda a, b: _copysign(*as_floats(a, b)))
# NOTE: written with where, not jnp.fmax: a tie's gradient goes to the first input, as in
# PyTorch (JAX splits it)
_binary("fmax", lambda a, b: jnp.where((a >= b) | jnp.isnan(b), a, b), inplace=False)
_binary("fmin", lambda a, b: jnp.where((a <= b) | jnp.isnan(b), a, b), inplace=False)
_binary("logical_xor", jnp.logical_xor, differentiable=False)


def _ldexp(x, exponent):
    x = as_float(x)
    if jnp.issubdtype(jnp.result_type(exponent), jnp.integer):
        # NOTE: exactly, as PyTorch's: exp2 in float32 was off from 2**25 up (ldexp(1., 30)
        # gave 1.07374086e9) and overflowed where the product fits (ldexp(0.5, 128) gave inf)
        e = jnp.clip(jnp.asarray(exponent), -2000, 2000).astype(jnp.int32)
        return jnp.ldexp(x, e).astype(jnp.result_type(x))
    return x * jnp.exp2(as_float(exponent)).astype(jnp.result_type(x))


_binary("ldexp", _ldexp)


def _heaviside(x, values):
    if jnp.result_type(x) != jnp.result_type(values):
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    return jnp.where(x == 0, values, x > 0).astype(jnp.result_type(x))


_binary("heaviside", _heaviside, differentiable=False)


def _float_power(x, exponent):
    # PyTorch computes float_power in float64 whatever the inputs' dtypes
    def f64(v):
        return float(v) if isinstance(v, (int, float)) else v.astype(jnp.float64)

    # with pow's PyTorch slopes: at a 0 base and 0 exponent, 0, not JAX's NaN (0 * inf)
    return torch_slopes_power(f64(x), f64(exponent))


_binary("float_power", _float_power, inplace=False)   # float_power_ checks dtypes: _math_extra

# ---- integer ops: bitwise, shifts, gcd/lcm ----------------------------------------------


def _bitwise(name: str, fn, kinds: str = "f", kernel: str | None = None):
    """PyTorch picks the kernel by the dtype the inputs promote to: `int64 << True` runs,
    `bool << bool` and `float & float` do not."""
    def bitwise(a, b):
        refuse_result(f"{kernel or name}_cpu", a, b, kinds=kinds)
        return fn(*as_result_type(a, b))

    return bitwise


_binary("bitwise_and", _bitwise("bitwise_and", jnp.bitwise_and), differentiable=False)
_binary("bitwise_or", _bitwise("bitwise_or", jnp.bitwise_or), differentiable=False)
_binary("bitwise_xor", _bitwise("bitwise_xor", jnp.bitwise_xor), differentiable=False)
_binary("bitwise_left_shift", _bitwise("bitwise_left_shift", jnp.left_shift, "bf", "lshift"),
        differentiable=False)
_binary("bitwise_right_shift", _bitwise("bitwise_right_shift", jnp.right_shift, "bf", "rshift"),
        differentiable=False)
def _gcd(a, b):
    """PyTorch's CPU gcd: Euclid's loop on abs(a), abs(b) with C's truncating remainder, in
    the dtype's own wrapping arithmetic. NOTE: jnp.gcd never returned for an int minimum
    (`gcd(5, -2**31)` in int32 looped forever); PyTorch's loop gives -1 there, as here."""
    a, b = jnp.broadcast_arrays(jnp.abs(a), jnp.abs(b))   # abs(minimum) wraps to itself, as C

    def step(state):
        a, b = state
        live = a != 0
        return jnp.where(live, _c_rem(b, a), 0), jnp.where(live, a, b)

    return jax.lax.while_loop(lambda state: jnp.any(state[0] != 0), step, (a, b))[1]


def _c_rem(b, a):
    """C's `b % a`, 0 where `a` is 0 or -1 (the int minimum by -1 traps on x86)."""
    odd = (a == 0) | (a == -1) if jnp.issubdtype(a.dtype, jnp.signedinteger) else a == 0
    return jnp.where(odd, 0, jax.lax.rem(b, jnp.where(odd, 1, a)))


def _lcm(a, b):
    """PyTorch's CPU lcm: abs(a / gcd * b) with C's truncating division, 0 when gcd is 0.
    C computes int8/int16/uint8 in int, so the product wraps only when cast back."""
    g, dtype = _gcd(a, b), a.dtype
    wide = jnp.int32 if dtype.itemsize < 4 else dtype
    a, b, g = (x.astype(wide) for x in jnp.broadcast_arrays(a, b, g))
    zero, minus = g == 0, g == -1
    quotient = jnp.where(minus, -a, jax.lax.div(a, jnp.where(zero | minus, 1, g)))
    return jnp.where(zero, 0, jnp.abs(quotient * b)).astype(dtype)


_binary("gcd", _bitwise("gcd", _gcd, "bf"), differentiable=False)
_binary("lcm", _bitwise("lcm", _lcm, "bf"), differentiable=False)
