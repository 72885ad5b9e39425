"""Kernels of `graphnet.special` that the top-level namespace lacks: scaled and first-order
Bessel functions, the normal distribution's functions, entropy, x*log1p(y), erfcx and the
spherical Bessel j0. JAX differentiates them; integer and bool input gives float32, as in
PyTorch. The functions users call are in graphnet/special.py."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss

from . import _opmath as opmath
from . import special_incomplete  # noqa: F401  (registration: gammainc, gammaincc, zeta)
from . import special_bessel  # noqa: F401  (registration: Airy and Bessel functions)
from . import special_polynomials  # noqa: F401  (registration: orthogonal polynomials)
from ._promote import float_kernel, not_implemented
from .pointwise_extra import x_log
from ._table import defop


def _spherical_bessel_j0(x):
    """sin(x)/x, 1 at 0, 0 at ±inf (PyTorch's limit; sin(inf) is NaN); near 0 the series
    1 - x^2/6 keeps the gradient finite."""
    small = jnp.abs(x) < 1e-4
    safe = jnp.where(small | jnp.isinf(x), 1, x)
    out = jnp.where(small, 1 - x * x / 6, jnp.sin(safe) / safe)
    return jnp.where(jnp.isinf(x), 0, out).astype(out.dtype)


def _half_in_float32(fn):
    """`fn` for float16/bfloat16 computed in float32 (JAX's ndtr refuses them; PyTorch
    computes in float and rounds back)."""
    def kernel(x):
        if x.dtype in (jnp.float16, jnp.bfloat16):
            return fn(x.astype(jnp.float32)).astype(x.dtype)
        return fn(x)
    return kernel


def _no_half(name: str, fn):
    """`fn`, refusing float16/bfloat16 with PyTorch's NotImplementedError (its CPU kernel
    has no half version)."""
    def kernel(x):
        if x.dtype in (jnp.float16, jnp.bfloat16):
            raise not_implemented(f"{name}_cpu", x.dtype)
        return fn(x)
    return kernel


@jax.custom_jvp
def _ndtri(x):
    return jss.ndtri(x)


# PyTorch's gradient, sqrt(2 pi) exp(ndtri(x)^2 / 2): inf at 0 and 1 (JAX's rule gave 0)
_ndtri.defjvps(lambda t, y, x: t * math.sqrt(2 * math.pi) * jnp.exp(y * y / 2))


for _name, _fn in [("i0e", jss.i0e), ("i1", jss.i1), ("i1e", jss.i1e),
                   ("ndtr", _half_in_float32(jss.ndtr)), ("ndtri", _no_half("ndtri", _ndtri)),
                   ("log_ndtr", _no_half("log_ndtr", opmath.in_float64(jss.log_ndtr))),
                   ("erfcx", _no_half("erfcx", opmath.in_float64(jss.erfcx))),
                   ("entr", jss.entr), ("spherical_bessel_j0", _spherical_bessel_j0)]:
    # PyTorch has no derivative of spherical_bessel_j0: its result requires no grad
    defop(f"special_{_name}", "elementwise", function=f"special.{_name}", method=None,
          dump=True, differentiable=_name != "spherical_bessel_j0")(float_kernel(_fn))


defop("special_xlog1py", "broadcast", function="special.xlog1py", method=None,
      dump=True)(x_log(jnp.log1p, -1.0))
