"""Kernels of `special.gammainc`, `special.gammaincc` (the regularized incomplete gamma
functions, `torch.igamma`/`igammac`) and `special.zeta` (Hurwitz's zeta).

PyTorch differentiates these in their second argument only; asking for the gradient of the
first raises its NotImplementedError at backward time. The kernels do the same: a custom JVP
passes the second argument's tangent through JAX's own rule and raises when the first
argument's tangent is not a symbolic zero (it is one whenever that input needs no grad)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
from jax.custom_derivatives import SymbolicZero

from ._promote import as_floats
from ._table import defop


def _second_argument_only(fn, torch_name: str):
    @jax.custom_jvp
    def kernel(a, x):
        return fn(a, x)

    def jvp(primals, tangents):
        a, x = primals
        ta, tx = tangents
        if not isinstance(ta, SymbolicZero):
            raise NotImplementedError(f"the derivative for '{torch_name}' is not implemented.")
        out, dout = jax.jvp(lambda x_: fn(a, x_), (x,), (_dense(tx, x),))
        return out, dout

    kernel.defjvp(jvp, symbolic_zeros=True)
    return kernel


def _dense(tangent, like):
    return jnp.zeros_like(like) if isinstance(tangent, SymbolicZero) else tangent


def _at_infinite_a(fn, finite_x):
    """`fn`, with PyTorch's value for a = inf: `finite_x` (0 for gammainc, 1 for gammaincc)
    unless x is inf too (NaN). JAX gave NaN, and 1 or 0 at (inf, inf)."""
    def kernel(a, x):
        edge = jnp.where(jnp.isposinf(x), jnp.nan, finite_x).astype(jnp.result_type(a, x))
        return jnp.where(jnp.isposinf(a), edge, fn(a, x))
    kernel.__name__ = fn.__name__
    return kernel


def _torch_zeta(x, q):
    """Hurwitz's zeta with PyTorch's (Cephes') edges: inf at a pole q = 0, -1, ... when
    x > 1 (JAX: NaN for odd x), and 1 at x = inf, q = 1 (JAX: NaN)."""
    out = jss.zeta(x, q)
    pole = (q <= 0) & (q == jnp.floor(q)) & (x > 1)
    out = jnp.where(pole, jnp.inf, out)
    return jnp.where(jnp.isposinf(x) & (q == 1), 1.0, out).astype(out.dtype)


_gammainc = _second_argument_only(_at_infinite_a(jss.gammainc, 0.0), "igamma: input")
_gammaincc = _second_argument_only(_at_infinite_a(jss.gammaincc, 1.0), "igammac: input")
_zeta = _second_argument_only(_torch_zeta, "zeta")


def _floats(fn):
    def kernel(a, x):
        a, x = as_floats(a, x)
        dtype = jnp.result_type(*(v for v in (a, x) if not isinstance(v, (int, float))))
        a, x = jnp.broadcast_arrays(jnp.asarray(a, dtype), jnp.asarray(x, dtype))
        return fn(a, x)
    kernel.__name__ = fn.__name__
    return kernel


for _name, _fn, _backward in [("gammainc", _gammainc, "IgammaBackward0"),
                              ("gammaincc", _gammaincc, "IgammacBackward0"),
                              ("zeta", _zeta, "SpecialZetaBackward0")]:
    defop(f"special_{_name}", "broadcast", function=f"special.{_name}", method=None,
          dump=True, backward=_backward)(_floats(_fn))
