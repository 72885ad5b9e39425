"""VonMises(loc, concentration): the circular normal on [-pi, pi). The density's Bessel
normaliser uses PyTorch's polynomial approximations (so values match it); samples come
from Best & Fisher's rejection sampler, run as one JAX while-loop op so that it also works
inside a compiled function (PyTorch loops in Python)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._dispatch import dispatch
from .._ops import defop
from .._random import key as _next_key
from .._tensor import Tensor
from . import constraints
from ._base import Distribution
from ._params import _broadcast, _t

_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2,
                  -0.2057706e-1, 0.2635537e-1, -0.1647633e-1, 0.392377e-2]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2,
                  0.32411e-3]
_I1_COEF_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1,
                  0.2282967e-1, -0.2895312e-1, 0.1787654e-1, -0.420059e-2]
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]


def _eval_poly(y: Tensor, coef) -> Tensor:
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def _log_modified_bessel_fn(x: Tensor, order: int = 0) -> Tensor:
    """log I_order(x) for x > 0, order 0 or 1 (Abramowitz & Stegun's polynomials)."""
    from .. import where

    if order not in (0, 1):
        raise AssertionError(f"order must be 0 or 1, got {order}")
    small = _eval_poly((x / 3.75) ** 2, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = small.log()
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _COEF_LARGE[order]).log()
    return where(x < 3.75, small, large)


@defop("von_mises_sample", "opaque", random=True, differentiable=False, function=None,
       method=None)
def _von_mises_kernel(key, loc, concentration, proposal_r):
    """Best & Fisher (1979): propose, accept or reject, until every entry is accepted."""
    def body(state):
        x, done, k = state
        k, sub = jax.random.split(k)
        u1, u2, u3 = jax.random.uniform(sub, (3,) + x.shape, x.dtype)
        z = jnp.cos(math.pi * u1)
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | (jnp.log(c / u2) + 1 - c >= 0)
        x = jnp.where(accept & ~done, jnp.sign(u3 - 0.5) * jnp.arccos(f), x)
        return x, done | accept, k

    start = (jnp.zeros_like(loc), jnp.zeros(loc.shape, bool), jax.random.wrap_key_data(key))
    x, _, _ = jax.lax.while_loop(lambda state: ~jnp.all(state[1]), body, start)
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """VonMises(loc, concentration): angles around `loc`, concentration kappa (0 is
    uniform on the circle). No `rsample`, as in PyTorch.

    >>> VonMises(graphnet.tensor(0.0), graphnet.tensor(4.0)).sample((3,))
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = _broadcast(_t(loc), _t(concentration))
        super().__init__(tuple(self.loc.shape), (), validate_args)
        self._validate_params()

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        log_prob = self.concentration * (_t(value, self.loc) - self.loc).cos()
        return log_prob - math.log(2 * math.pi) - \
            _log_modified_bessel_fn(self.concentration, order=0)

    def _proposal_r(self, kappa: Tensor) -> Tensor:
        from .. import where

        tau = 1 + (1 + 4 * kappa ** 2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        # second-order Taylor expansion around 0 for small kappa
        return where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))

    def sample(self, sample_shape=()) -> Tensor:
        from .. import float64
        from .._autograd import no_grad

        shape = self._extended_shape(sample_shape)
        with no_grad():
            # NOTE: drawn in float64 and rounded, as PyTorch does
            loc = self.loc.detach().to(float64)
            kappa = self.concentration.detach().to(float64)
            x = dispatch("von_mises_sample", _next_key(None), loc.expand(*shape),
                         kappa.expand(*shape), self._proposal_r(kappa).expand(*shape))
            return x.to(self.loc.dtype)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """Circular variance 1 - I1(kappa) / I0(kappa)."""
        return 1 - (_log_modified_bessel_fn(self.concentration, order=1) -
                    _log_modified_bessel_fn(self.concentration, order=0)).exp()
