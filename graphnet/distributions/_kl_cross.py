"""Closed-form KL(p || q) between two different families, the cross pairs PyTorch registers.

Most are -H(p) - E_p[log q(x)], with E_p of the few statistics log q depends on (x, x^2,
log x, log(1 - x)) written out for p. A pair where p puts mass outside q's support has an
infinite KL; those are registered too, so `kl_divergence` answers inf instead of raising.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _math as M
from .._factories import full_like
from ._continuous import Exponential, Gamma, Laplace
from ._counts import Binomial, Poisson
from ._kinds import Bernoulli, Normal, Uniform
from ._kl import register_kl
from ._simplex import Beta

_LOG_2PI = math.log(2 * math.pi)


def _mean_log_x(low, high):
    """E[log x] for x ~ Uniform(low, high), low >= 0: the integral of log x over the interval,
    divided by its width. `xlogy` keeps the value finite at low = 0 (where x log x -> 0)."""
    width = high - low
    return (high.xlogy(high) - low.xlogy(low) - width) / width


def _infinite(p, q, param):
    """An all-inf KL over the pair's broadcast batch shape, in `param`'s dtype.
    NOTE: PyTorch returns p's parameter shape; we broadcast with q's batch as every finite
    pair does, so the two agree whenever p's batch already covers q's."""
    shape = np.broadcast_shapes(tuple(p.batch_shape), tuple(q.batch_shape))
    return full_like(param, math.inf).expand(*shape)


# --- p discrete ---------------------------------------------------------------------------

@register_kl(Bernoulli, Poisson)
def _bernoulli_poisson(p, q):
    # log q(k) = k log(rate) - rate - log k!, and log k! = 0 for k in {0, 1}.
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


# --- p on [0, 1]: Beta --------------------------------------------------------------------

def _beta_mean(p):
    return p.concentration1 / (p.concentration1 + p.concentration0)


@register_kl(Beta, Exponential)
def _beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * _beta_mean(p)


@register_kl(Beta, Gamma)
def _beta_gamma(p, q):
    # E_beta[log x] = digamma(a) - digamma(a + b).
    mean_log_x = p.concentration1.digamma() - (p.concentration1 + p.concentration0).digamma()
    log_norm = q.concentration.lgamma() - q.concentration * q.rate.log()
    return -p.entropy() + log_norm - (q.concentration - 1) * mean_log_x + \
        q.rate * _beta_mean(p)


@register_kl(Beta, Normal)
def _beta_normal(p, q):
    mean = _beta_mean(p)
    total = p.concentration1 + p.concentration0
    second_moment = mean * (1 - mean) / (total + 1) + mean.pow(2)
    var_q = q.scale.pow(2)
    squared_error = 0.5 * second_moment - q.loc * mean + 0.5 * q.loc.pow(2)
    return -p.entropy() + 0.5 * (_LOG_2PI + var_q.log()) + squared_error / var_q


@register_kl(Beta, Uniform)
def _beta_uniform(p, q):
    kl = -p.entropy() + (q.high - q.low).log()
    # Beta's support is [0, 1]: q must cover all of it.
    return M.where((q.low > 0) | (q.high < 1), math.inf, kl)


# --- p on [0, inf): Exponential, Gamma ----------------------------------------------------

@register_kl(Exponential, Normal)
def _exponential_normal(p, q):
    var_q = q.scale.pow(2)
    rate_sq = p.rate.pow(2)
    # E[x] = 1 / rate, E[x^2] = 2 / rate^2; the -1 is the Exponential's entropy 1 - log(rate).
    t1 = 0.5 * (rate_sq * var_q).log() + 0.5 * _LOG_2PI
    squared_error = rate_sq.reciprocal() - q.loc / p.rate + 0.5 * q.loc.pow(2)
    return t1 - 1 + squared_error / var_q


@register_kl(Gamma, Exponential)
def _gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Normal)
def _gamma_normal(p, q):
    var_q = q.scale.pow(2)
    rate_sq = p.rate.pow(2)
    conc = p.concentration
    neg_entropy = (conc - 1) * conc.digamma() - conc - conc.lgamma() + p.rate.log()
    log_norm = 0.5 * (var_q.log() + _LOG_2PI)
    # E[x] = conc / rate, E[x^2] = (conc^2 + conc) / rate^2.
    squared_error = 0.5 * (conc.pow(2) + conc) / rate_sq - q.loc * conc / p.rate + \
        0.5 * q.loc.pow(2)
    return neg_entropy + log_norm + squared_error / var_q


# --- p on the real line: Normal, Laplace --------------------------------------------------

@register_kl(Laplace, Normal)
def _laplace_normal(p, q):
    var_q = q.scale.pow(2)
    # E[x^2] under Laplace(loc, b) is loc^2 + 2 b^2; `ratio` is b^2 / sigma^2.
    ratio = p.scale.pow(2) / var_q
    log_term = 0.5 * (2 * ratio / math.pi).log()
    squared_error = 0.5 * p.loc.pow(2) - p.loc * q.loc + 0.5 * q.loc.pow(2)
    return -log_term + ratio + squared_error / var_q - 1


@register_kl(Normal, Laplace)
def _normal_laplace(p, q):
    diff = p.loc - q.loc
    z = diff / p.scale
    # E|x - mu_q| for x ~ Normal: the folded normal's mean.
    mean_abs = math.sqrt(2 / math.pi) * p.scale * (-0.5 * z.pow(2)).exp() + \
        diff * (z * math.sqrt(0.5)).erf()
    return -(p.scale / q.scale).log() + mean_abs / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


# --- p = Uniform --------------------------------------------------------------------------

@register_kl(Uniform, Beta)
def _uniform_beta(p, q):
    width = p.high - p.low
    # E[log(1 - x)] is E[log u] for u ~ Uniform(1 - high, 1 - low).
    mean_log_x = _mean_log_x(p.low, p.high)
    mean_log_1mx = _mean_log_x(1 - p.high, 1 - p.low)
    log_beta = q.concentration1.lgamma() + q.concentration0.lgamma() - \
        (q.concentration1 + q.concentration0).lgamma()
    kl = -width.log() - (q.concentration1 - 1) * mean_log_x - \
        (q.concentration0 - 1) * mean_log_1mx + log_beta
    return M.where((p.high > 1) | (p.low < 0), math.inf, kl)


@register_kl(Uniform, Exponential)
def _uniform_exponential(p, q):
    kl = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return M.where(p.low < 0, math.inf, kl)


@register_kl(Uniform, Gamma)
def _uniform_gamma(p, q):
    width = p.high - p.low
    log_norm = q.concentration.lgamma() - q.concentration * q.rate.log()
    # NOTE: the mean of log x is only finite on [0, inf); where low < 0 it is NaN and masked.
    kl = -width.log() + log_norm - (q.concentration - 1) * _mean_log_x(p.low, p.high) + \
        q.rate * (p.high + p.low) / 2
    return M.where(p.low < 0, math.inf, kl)


@register_kl(Uniform, Normal)
def _uniform_normal(p, q):
    width = p.high - p.low
    # E[(x - mu)^2] = width^2 / 12 + (midpoint - mu)^2.
    squared_error = width.pow(2) / 12 + ((p.high + p.low) / 2 - q.loc).pow(2)
    return (math.sqrt(2 * math.pi) * q.scale / width).log() + 0.5 * squared_error / \
        q.scale.pow(2)


# --- p puts mass where q has none: KL = inf -----------------------------------------------

_INFINITE_PAIRS = {
    Exponential: ("rate", (Beta, Uniform)),          # unbounded above
    Gamma: ("concentration", (Beta, Uniform)),       # unbounded above
    Laplace: ("loc", (Beta, Exponential, Gamma, Uniform)),   # all of the real line
    Normal: ("loc", (Beta, Exponential, Gamma, Uniform)),    # all of the real line
    Poisson: ("rate", (Bernoulli, Binomial)),        # counts beyond 1 / total_count
}


def _register_infinite(type_p, param: str, type_q) -> None:
    register_kl(type_p, type_q)(lambda p, q: _infinite(p, q, getattr(p, param)))


for _type_p, (_param, _types_q) in _INFINITE_PAIRS.items():
    for _type_q in _types_q:
        _register_infinite(_type_p, _param, _type_q)
