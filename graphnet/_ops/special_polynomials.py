"""Kernels of `special.chebyshev_polynomial_t/u/v/w`, their `shifted_` versions on [0, 1],
`special.hermite_polynomial_h/he`, `special.laguerre_polynomial_l` and
`special.legendre_polynomial_p`: P_n(x) for a tensor x and a degree n (tensor or number).

Each follows PyTorch's CPU kernel case by case: n is read in x's dtype and truncated to an
integer (n = 2.7 is 2; NaN, infinite or out-of-range n counts as negative), a negative degree
gives 0, the edges x = +-1 (x = 0 and 1 when shifted) give exact values, Chebyshev degrees past
a small bound with |x| < 1 use the trigonometric closed forms, and the rest runs the three-term
recurrence, which stops early once it reaches NaN. Each step rounds as PyTorch's compiled C++
does (one fused multiply-add, a true division: _cpu_rounding.py), so the recurrences agree
with PyTorch bit for bit; the float32 trigonometric forms can differ by about n^2 ulp, where
the C library's acosf is an ulp off. The recurrence is a `lax.while_loop` over
the whole array, each element frozen once it has run its own n steps; it runs eagerly and
compiled alike, but not under reverse-mode differentiation (PyTorch has no derivative here
either: the ops are non-differentiable).

The operands reach the kernel in one floating dtype (graphnet/_special_polynomials.py
promotes them); a number operand is converted to the tensor's dtype here.

NOTE: for NaN x and n >= 2, PyTorch returns an uninitialised value for U, W, their shifted
forms, L and P (the loop never runs and its result variable is never set); graphnet returns
NaN there."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._cpu_rounding import divide_exactly, libm, multiply_subtract
from ._promote import _default as default_float
from ._table import defop


def _operands(x, n):
    """x and n broadcast in their common dtype, and n as PyTorch's int64 degree. (A number
    operand is weakly typed here, so it takes the tensor's dtype; an integer pair, which the
    public function never passes, would compute in the default float dtype.)"""
    dtype = jnp.result_type(x, n)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = default_float()
    x, n = jnp.broadcast_arrays(jnp.asarray(x).astype(dtype), jnp.asarray(n).astype(dtype))
    # NOTE: C++'s cast of NaN, +-inf or a value beyond int64 is undefined; x86 gives INT64_MIN,
    # a negative degree, and so does this
    fits = jnp.isfinite(n) & (jnp.abs(n) < 2.0 ** 63)
    return x, jnp.where(fits, n, -1.0).astype(jnp.int64)


def _recurrence(p, q, step, first, last, live):
    """Run q_k = step(p, q, k) for k = first .. last (per element: `last` is an array), only
    where `live`, and stop an element early where q is NaN; return the final q."""
    def active(k, q):
        return live & (k <= last) & ~jnp.isnan(q)

    def body(state):
        k, p, q = state
        on = active(k, q)
        r = step(p, q, k)
        return k + 1, jnp.where(on, q, p), jnp.where(on, r, q)

    state = (jnp.asarray(first, jnp.int64), p, q)
    return jax.lax.while_loop(lambda s: jnp.any(active(s[0], s[2])), body, state)[2]


def _as(k, like):
    return k.astype(like.dtype)


def _parity(n, even, odd):
    return jnp.where(n % 2 == 0, even, odd)


def _chebyshev(kind: str, shifted: bool):
    """T, U, V or W (`kind`), on [-1, 1] or shifted to [0, 1]."""
    def kernel(x, n):
        x, n = _operands(x, n)
        y = x + x - 1.0 if shifted else x
        two_y = y + y
        n1, n2 = _as(n + 1, x), _as(n + n + 1, x)
        if shifted:   # the edges are x = 1 (y = 1) and x = 0 (y = -1)
            at_plus, at_minus = x == 1, x == 0
        else:
            at_plus, at_minus = (jnp.abs(x) == 1) & (x > 0), (jnp.abs(x) == 1) & ~(x > 0)
        edge_plus = {"t": 1.0, "u": n1, "v": 1.0, "w": n2}[kind]
        edge_minus = {"t": _parity(n, 1.0, -1.0), "u": _parity(n, n1, -n1),
                      "v": _parity(n, n2, -n2), "w": _parity(n, 1.0, -1.0)}[kind]
        bound = 4 if (kind == "w" and shifted) else 6 if (kind == "t" or shifted) else 8
        use_trig = (n > bound) & (jnp.abs(y) < 1)
        theta = libm(jnp.arccos, jnp.where(use_trig, y, 0.0))
        trig = _trigonometric(kind, n, theta, y, x, edge_minus, n1, n2, shifted)
        q1 = {"t": y, "u": two_y, "v": two_y - 1.0, "w": two_y + 1.0}[kind]
        plain = (n >= 2) & ~at_plus & ~at_minus & ~use_trig
        rec = _recurrence(jnp.ones_like(x), q1, lambda p, q, k: multiply_subtract(two_y, q, p),
                         2, n, plain)
        value = jnp.where(n == 0, 1.0, jnp.where(n == 1, q1, rec))
        value = jnp.where(use_trig, trig, value)
        value = jnp.where(at_minus, edge_minus, jnp.where(at_plus, edge_plus, value))
        return jnp.where(n < 0, 0.0, value)
    return kernel


def _trigonometric(kind, n, theta, y, x, edge_minus, n1, n2, shifted):
    """The closed forms cos(n t), sin((n+1) t) / sin t, cos((n+1/2) t) / cos(t/2),
    sin((n+1/2) t) / sin(t/2) for y = cos t, with PyTorch's fallbacks where the denominator
    test fails."""
    half = _as(n, theta) + 0.5
    sin, cos = functools.partial(libm, jnp.sin), functools.partial(libm, jnp.cos)
    if kind == "t":
        return cos(_as(n, theta) * theta)
    if kind == "u":
        s = sin(theta)
        return jnp.where(s != 0, sin(n1 * theta) / s, n1 * cos(n1 * theta) / y)
    if kind == "v":
        fine = sin(theta / 2.0) != 1
        return jnp.where(fine, cos(half * theta) / cos(theta / 2.0), _parity(n, n2, -n2))
    fine = cos(theta / 2.0) != 1
    fallback = edge_minus if shifted else jnp.where(x > 0, n2, edge_minus)
    return jnp.where(fine, sin(half * theta) / sin(theta / 2.0), fallback)


def _hermite_limit(x) -> int:
    return 128 if x.dtype == jnp.float32 else 512


def _hermite_h(x, n):
    x, n = _operands(x, n)
    two_x = x + x
    # k = 2, 4 .. 2n - 2: counted by j = k / 2 = 1 .. n - 1
    def step(p, q, j):
        return multiply_subtract(two_x, q, _as(j + j, x) * p)

    rec = _recurrence(jnp.ones_like(x), two_x, step, 1, n - 1, n >= 2)
    value = jnp.where(n > _hermite_limit(x), jnp.nan, rec)
    return jnp.where(n < 0, 0.0, jnp.where(n == 0, 1.0, jnp.where(n == 1, two_x, value)))


def _hermite_he(x, n):
    x, n = _operands(x, n)
    def step(p, q, k):
        return multiply_subtract(x, q, _as(k, x) * p)

    rec = _recurrence(jnp.ones_like(x), x, step, 1, n - 1, n >= 2)
    value = jnp.where(n > _hermite_limit(x), jnp.nan, rec)
    return jnp.where(n < 0, 0.0, jnp.where(n == 0, 1.0, jnp.where(n == 1, x, value)))


def _laguerre_l(x, n):
    x, n = _operands(x, n)
    one_minus = 1.0 - x

    def step(p, q, k):
        return divide_exactly(multiply_subtract(_as(k + k, x) + one_minus, q, _as(k, x) * p),
                              _as(k + 1, x))

    rec = _recurrence(jnp.ones_like(x), one_minus, step, 1, n - 1, (n >= 2) & (x != 0))
    value = jnp.where(n == 0, 1.0, jnp.where(n == 1, one_minus, rec))
    return jnp.where(n < 0, 0.0, jnp.where(x == 0, 1.0, value))


def _legendre_p(x, n):
    x, n = _operands(x, n)
    edge = jnp.abs(x) == 1

    def step(p, q, k):
        return divide_exactly(multiply_subtract(_as(k + k + 1, x) * x, q, _as(k, x) * p),
                              _as(k + 1, x))

    rec = _recurrence(jnp.ones_like(x), x, step, 1, n - 1, (n >= 2) & ~edge)
    value = jnp.where(n == 0, 1.0, jnp.where(n == 1, x, rec))
    value = jnp.where(edge, jnp.where((x > 0) | (n % 2 == 0), 1.0, -1.0), value)
    return jnp.where(n < 0, 0.0, value)


KERNELS = {f"{prefix}chebyshev_polynomial_{kind}": _chebyshev(kind, bool(prefix))
           for prefix in ("", "shifted_") for kind in "tuvw"}
KERNELS.update(hermite_polynomial_h=_hermite_h, hermite_polynomial_he=_hermite_he,
               laguerre_polynomial_l=_laguerre_l, legendre_polynomial_p=_legendre_p)

for _name, _fn in KERNELS.items():
    # PyTorch has no derivative of these: their results require no grad. The public function
    # promotes the operands first, so a code dump writes the op itself (dump=False).
    defop(f"special_{_name}", "broadcast", function=f"special.{_name}", method=None,
          differentiable=False)(_fn)
