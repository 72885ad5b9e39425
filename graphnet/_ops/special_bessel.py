"""Kernels of `special.airy_ai`, `special.bessel_j0/j1/y0/y1`, `special.modified_bessel_i0/i1/
k0/k1` and `special.scaled_modified_bessel_k0/k1`.

Each one evaluates the same piecewise Cephes approximation as PyTorch's CPU kernel, branch for
branch and in the working dtype (float32 stays float32), so the two agree to rounding. They
are written elementwise with `jnp.where`, so one kernel serves eager calls and compiled
programs. PyTorch defines no derivative for them: their results require no grad (the ops are
registered non-differentiable). Integer and bool input computes in float32; float16 and
bfloat16 raise PyTorch's NotImplementedError (its CPU kernels have no half version).

Where XLA would round differently from PyTorch's compiled C++ (fused multiply-adds, divisions
by constants or square roots, float32 libm calls), _cpu_rounding.py's helpers round as PyTorch
does: float32 results then agree bit for bit but for a few in a hundred (an ulp), float64 ones
to about 1e-15 relative. XLA flushes subnormal results to zero (K0(90) in float32, where
PyTorch returns 1e-39)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from . import _bessel_coefficients as C
from ._cpu_rounding import divide_exactly, libm, multiply_subtract
from ._promote import float_kernel, not_implemented
from ._table import defop

_PI_4, _3PI_4 = 0.785398163397448309615660845819875721, 2.356194490192344928846982537459627163
_SQRT_2_PI = 0.797884560802865355879892119868763737   # sqrt(2 / pi)
_2_PI = 0.636619772367581343075535053490057448        # 2 / pi
_1_SQRT_PI = 5.64189583547756286948e-01               # 1 / sqrt(pi)


# NOTE: PyTorch's scalar kernels call the C library's float32 expf, logf, sinf and cosf, which
# round once; XLA's float32 versions are an ulp off at times (see _cpu_rounding.py)
_exp, _log, _sin, _cos = (functools.partial(libm, f) for f in (jnp.exp, jnp.log, jnp.sin,
                                                                jnp.cos))


def _horner(coefficients, z):
    """sum c_i z^(n-i) as PyTorch's loop sums it: from 0, one fused acc * z + c a step."""
    acc = jnp.zeros_like(z)
    for c in coefficients:
        acc = multiply_subtract(acc, z, -c)
    return acc


def _clenshaw(coefficients, y):
    """Cephes' Chebyshev series sum' c_i T_i(y / 2), by Clenshaw's recurrence (y q - p fused,
    as PyTorch's compiler fuses it)."""
    p = q = jnp.zeros_like(y)
    a = jnp.full_like(y, coefficients[0])
    for c in coefficients[1:]:
        p, q = q, a
        a = multiply_subtract(y, q, p) + c
    return 0.5 * (a - p)


def _oscillating(x, w, tables, shift: float, y: bool = False):
    """The large-x form sqrt(2/(pi x)) (P cos(x - shift) - 5/x Q sin(x - shift)) of J, with
    P = PP/PQ and Q = QP/QQ rational in w ~ 25 / x^2 (`y`: Y's P sin + 5/x Q cos)."""
    pp, pq, qp, qq = tables
    p = _horner(pp, w) / _horner(pq, w)
    q = _horner(qp, w) / _horner(qq, w)
    sin, cos = _sin(x - shift), _cos(x - shift)
    value = p * sin + 5.0 / x * q * cos if y else p * cos - 5.0 / x * q * sin
    return divide_exactly(value * _SQRT_2_PI, jnp.sqrt(x))


_J0 = (C.J0_PP, C.J0_PQ, C.J0_QP, C.J0_QQ)   # Y0 uses the same four tables, as in Cephes
_J1 = (C.J1_PP, C.J1_PQ, C.J1_QP, C.J1_QQ)


def bessel_j0(x):
    x = jnp.where(x < 0, -x, x)
    w = x * x
    small = 1.0 - w / 4.0
    middle = (w - 5.78318596294678452118) * (w - 30.4712623436620863991) \
        * _horner(C.J0_RP, w) / _horner(C.J0_RQ, w)
    large = _oscillating(x, 25.0 / (x * x), _J0, _PI_4)
    return jnp.where(x <= 5, jnp.where(x < 1e-5, small, middle), large)


def bessel_j1(x):
    ax = jnp.where(x < 0, -x, x)
    w = ax * ax
    middle = _horner(C.J1_RP, w) / _horner(C.J1_RQ, w) * ax \
        * (w - 14.6819706421238932572) * (w - 49.2184563216946036703)
    large = _oscillating(ax, 5.0 / ax * (5.0 / ax), _J1, _3PI_4)
    value = jnp.where(ax <= 5, middle, large)
    return jnp.where(x < 0, -value, value)


def bessel_y0(x):
    w = x * x
    middle = _horner(C.Y0_YP, w) / _horner(C.Y0_YQ, w) + _2_PI * _log(x) * bessel_j0(x)
    large = _oscillating(x, 25.0 / (x * x), _J0, _PI_4, y=True)
    edge = jnp.where(x == 0, -jnp.inf, jnp.nan)
    return jnp.where(x <= 5, jnp.where(x <= 0, edge, middle), large)


def bessel_y1(x):
    w = x * x
    middle = x * (_horner(C.Y1_YP, w) / _horner(C.Y1_YQ, w)) \
        + _2_PI * (bessel_j1(x) * _log(x) - 1.0 / x)
    large = _oscillating(x, 5.0 / x * (5.0 / x), _J1, _3PI_4, y=True)
    edge = jnp.where(x == 0, -jnp.inf, jnp.nan)
    return jnp.where(x <= 5, jnp.where(x <= 0, edge, middle), large)


def modified_bessel_i0(x):
    ax = jnp.abs(x)
    small = _exp(ax) * _clenshaw(C.I0_A, ax / 2.0 - 2.0)
    large = divide_exactly(_exp(ax) * _clenshaw(C.I0_B, 32.0 / ax - 2.0), jnp.sqrt(ax))
    return jnp.where(ax <= 8, small, large)


def modified_bessel_i1(x):
    ax = jnp.abs(x)
    small = _clenshaw(C.I1_A, ax / 2.0 - 2.0) * ax * _exp(ax)
    large = divide_exactly(_exp(ax) * _clenshaw(C.I1_B, 32.0 / ax - 2.0), jnp.sqrt(ax))
    value = jnp.where(ax <= 8, small, large)
    return jnp.where(x < 0, -value, value)


def _k_small(x, order: int, scaled: bool):
    """K0 or K1 for 0 < x <= 2: a Chebyshev series in x^2 plus the log(x/2) I term."""
    series = _clenshaw(C.K0_A if order == 0 else C.K1_A, multiply_subtract(x, x, 2.0))
    if order == 1:
        value = multiply_subtract(_log(0.5 * x), modified_bessel_i1(x), -(series / x))
    elif scaled or x.dtype == jnp.float64:
        value = -multiply_subtract(_log(0.5 * x), modified_bessel_i0(x), series)
    else:
        # NOTE: PyTorch's unscaled K0 takes this log of a double `0.5 * x` even in float32,
        # and so computes the difference in double before rounding it back
        wide = _log(0.5 * x.astype(jnp.float64)) * modified_bessel_i0(x).astype(jnp.float64)
        value = (series.astype(jnp.float64) - wide).astype(x.dtype)
    return value * _exp(x) if scaled else value


def _modified_bessel_k(order: int, scaled: bool):
    def kernel(x):
        series = _clenshaw(C.K0_B if order == 0 else C.K1_B, 8.0 / x - 2.0)
        large = divide_exactly(series if scaled else _exp(-x) * series, jnp.sqrt(x))
        value = jnp.where(x <= 2, _k_small(x, order, scaled), large)
        return jnp.where(x == 0, jnp.inf, jnp.where(x < 0, jnp.nan, value))
    return kernel


def _airy_series(x):
    """Ai(x) = c1 f(x) - c2 g(x) by its Maclaurin series, summed term by term until the
    next term of f changes it by less than an epsilon, as PyTorch's loop does (per element)."""
    eps = float(np.finfo(x.dtype).eps)
    z = x * x * x
    one = jnp.ones_like(x)

    def step(state):
        f, g, k, m, n, t = state
        live = t > eps
        m1 = m * z
        k1 = k + 1.0
        m1 = m1 / k1
        n1 = n * z
        k2 = k1 + 1.0
        n1 = n1 / k2
        m1 = m1 / k2
        f1 = f + m1
        k3 = k2 + 1.0
        n1 = n1 / k3
        g1 = g + n1
        new = (f1, g1, k3, m1, n1, jnp.abs(m1 / f1))
        return tuple(jnp.where(live, a, b) for a, b in zip(new, state))

    # NOTE: elements the series does not serve start converged (t = 0): the loop's length
    # is set by those it does
    t0 = jnp.where((x >= -2.09) & (x < 2.09), one, 0.0)
    state = jax.lax.while_loop(lambda s: jnp.any(s[5] > eps), step, (one, x, one, one, x, t0))
    f, g = state[0], state[1]
    return 0.355028053887817239260 * f - 0.258819403792806798405 * g


def airy_ai(x):
    neg = jnp.where(x < -2.09, x, -3.0)      # the oscillating side, x < -2.09
    root = jnp.sqrt(-neg)
    z = 1.0 / divide_exactly(-2.0 * neg * root, 3.0)
    zz = z * z
    phase = divide_exactly(-2.0 * neg * root, 3.0) + 0.25 * np.pi
    left = divide_exactly(jnp.full_like(x, _1_SQRT_PI), jnp.sqrt(root)) * (
        _sin(phase) * (1.0 + zz * _horner(C.AIRY_AFN, zz) / _horner(C.AIRY_AFD, zz))
        - _cos(phase) * (z * _horner(C.AIRY_AGN, zz) / _horner(C.AIRY_AGD, zz)))
    pos = jnp.where(x >= 2.09, x, 3.0)        # the decaying side, x >= 2.09
    zeta = divide_exactly(2.0 * pos * jnp.sqrt(pos), 3.0)
    ratio = _horner(C.AIRY_AN, 1.0 / zeta) / _horner(C.AIRY_AD, 1.0 / zeta)
    right = _1_SQRT_PI * ratio / (2.0 * jnp.sqrt(jnp.sqrt(pos)) * _exp(zeta))
    value = jnp.where(x < -2.09, left, jnp.where(x >= 2.09, right, _airy_series(x)))
    return jnp.where(jnp.isinf(x), jnp.nan, jnp.where(x > 103.892, 0.0, value))


def _cpu_kernel(name: str, fn):
    """`fn` on float input, refusing float16/bfloat16 as PyTorch's "`name`_cpu" does."""
    def kernel(x):
        if x.dtype in (jnp.float16, jnp.bfloat16):
            raise not_implemented(f"{name}_cpu", x.dtype)
        return fn(x)
    kernel.__name__ = name
    return float_kernel(kernel)


_KERNELS = {
    "airy_ai": airy_ai, "bessel_j0": bessel_j0, "bessel_j1": bessel_j1,
    "bessel_y0": bessel_y0, "bessel_y1": bessel_y1,
    "modified_bessel_i0": modified_bessel_i0, "modified_bessel_i1": modified_bessel_i1,
    "modified_bessel_k0": _modified_bessel_k(0, False),
    "modified_bessel_k1": _modified_bessel_k(1, False),
    "scaled_modified_bessel_k0": _modified_bessel_k(0, True),
    "scaled_modified_bessel_k1": _modified_bessel_k(1, True),
}

for _name, _fn in _KERNELS.items():
    # PyTorch has no derivative of these: their results require no grad
    defop(f"special_{_name}", "elementwise", function=f"special.{_name}", method=None,
          dump=True, differentiable=False)(_cpu_kernel(_name, _fn))
