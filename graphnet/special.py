"""`torch.special`: special mathematical functions, by PyTorch's names. Most are the same
functions as graphnet's top level (`special.expit` is `sigmoid`, `special.psi` is
`digamma`); the rest have their own kernels (graphnet/_ops/special.py)."""

from __future__ import annotations

from . import _ops  # noqa: F401  (registers the kernels)
from ._dispatch import dispatch
from ._math import (  # noqa: F401
    digamma, erf, erfc, erfinv, exp2, expm1, i0, lgamma, log1p, sigmoid, sinc, xlogy)
from ._math import log_softmax as _log_softmax
from ._math import logsumexp as _logsumexp
from ._math import softmax as _softmax
from ._math_pointwise import logit, mvlgamma, polygamma, round  # noqa: F401
from ._special_polynomials import *  # noqa: F401,F403  (Airy, Bessel, polynomials)
from ._special_polynomials import __all__ as _polynomials_and_bessel
from ._tensor import Tensor

expit = sigmoid
psi = digamma
gammaln = lgamma
multigammaln = mvlgamma

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma",
           "psi", "round", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
           *_polynomials_and_bessel]


def _unary(name: str):
    def fn(input: Tensor) -> Tensor:
        return dispatch(f"special_{name}", input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"`torch.special.{name}`, elementwise."
    return fn


i0e, i1, i1e, ndtr, ndtri, log_ndtr, erfcx, entr, spherical_bessel_j0 = (
    _unary(n) for n in ("i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr", "erfcx", "entr",
                        "spherical_bessel_j0"))


def xlog1py(input, other) -> Tensor:
    """input * log1p(other), 0 where input is 0."""
    return dispatch("special_xlog1py", input, other)


def gammainc(input, other) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other); differentiable in
    `other` only, as in PyTorch."""
    return dispatch("special_gammainc", input, other)


def gammaincc(input, other) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    return dispatch("special_gammaincc", input, other)


def zeta(input, other) -> Tensor:
    """Hurwitz's zeta function sum_k (k + other)^-input; differentiable in `other` only."""
    return dispatch("special_zeta", input, other)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    return _log_softmax(input, dim, dtype=dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    return _logsumexp(input, dim, keepdim)
