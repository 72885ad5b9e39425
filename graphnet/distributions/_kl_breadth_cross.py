"""Cross-family KL(p || q) involving Gumbel, Pareto and ContinuousBernoulli: PyTorch's
closed forms (mostly -H(p) - E_p[log q(x)]), and the pairs where p puts mass outside q's
support, whose KL is inf. Registered on import, as _kl_cross.py does for the older
families."""

from __future__ import annotations

import math

from .. import _math as M
from ._arg_checks import EULER_CONSTANT
from ._continuous import Exponential, Gamma, Laplace
from ._continuous_bernoulli import ContinuousBernoulli
from ._extreme import Gumbel, Pareto
from ._kinds import Normal, Uniform
from ._kl import register_kl
from ._kl_cross import _infinite
from ._simplex import Beta


def _x_log_x(x):
    return x.xlogy(x)   # 0 at x = 0


def _cb_cross_entropy_rest(mean, q):
    """-E_p[log q(x)] for q ContinuousBernoulli, given E_p[x]."""
    return -mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(Beta, ContinuousBernoulli)
def _beta_continuous_bernoulli(p, q):
    return -p.entropy() + _cb_cross_entropy_rest(p.mean, q)


@register_kl(ContinuousBernoulli, Exponential)
def _continuous_bernoulli_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _continuous_bernoulli_normal(p, q):
    t1 = -p.entropy()
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).square()) + q.scale.log()
    t3 = (p.variance + p.mean.square() - 2.0 * q.loc * p.mean) / (2.0 * q.scale.square())
    return t1 + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _continuous_bernoulli_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    outside = (q.low >= p.support.lower_bound) | (q.high <= p.support.upper_bound)
    return M.where(outside, math.inf, result)


@register_kl(Uniform, ContinuousBernoulli)
def _uniform_continuous_bernoulli(p, q):
    result = -p.entropy() + _cb_cross_entropy_rest(p.mean, q)
    outside = (p.high >= q.support.upper_bound) | (p.low <= q.support.lower_bound)
    return M.where(outside, math.inf, result)


@register_kl(Exponential, Gumbel)
def _exponential_gumbel(p, q):
    scale_rate = p.rate * q.scale
    loc_scale = q.loc / q.scale
    t1 = scale_rate.log() - 1
    t2 = loc_scale.exp() * scale_rate / (scale_rate + 1)
    return t1 - loc_scale + t2 + scale_rate.reciprocal()


@register_kl(Gamma, Gumbel)
def _gamma_gumbel(p, q):
    c = p.concentration
    beta_scale = p.rate * q.scale
    loc_scale = q.loc / q.scale
    t1 = (c - 1) * c.digamma() - c.lgamma() - c
    t2 = beta_scale.log() + c / beta_scale
    t3 = loc_scale.exp() * (1 + beta_scale.reciprocal()).pow(-c) - loc_scale
    return t1 + t2 + t3


@register_kl(Gumbel, Normal)
def _gumbel_normal(p, q):
    ratio = p.scale / q.scale
    t1 = (ratio / math.sqrt(2 * math.pi)).log()
    t2 = (math.pi * ratio * 0.5).pow(2) / 3
    t3 = ((p.loc + p.scale * EULER_CONSTANT - q.loc) / q.scale).pow(2) * 0.5
    return -t1 + t2 + t3 - (EULER_CONSTANT + 1)


@register_kl(Normal, Gumbel)
def _normal_gumbel(p, q):
    mean_scale = p.loc / q.scale
    var_scale_sq = (p.scale / q.scale).pow(2)
    loc_scale = q.loc / q.scale
    t1 = var_scale_sq.log() * 0.5
    t2 = mean_scale - loc_scale
    t3 = (-mean_scale + 0.5 * var_scale_sq + loc_scale).exp()
    return -t1 + t2 + t3 - (0.5 * (1 + math.log(2 * math.pi)))


@register_kl(Uniform, Gumbel)
def _uniform_gumbel(p, q):
    common = q.scale / (p.high - p.low)
    high_diff, low_diff = (p.high - q.loc) / q.scale, (p.low - q.loc) / q.scale
    t1 = common.log() + 0.5 * (high_diff + low_diff)
    t2 = common * ((-high_diff).exp() - (-low_diff).exp())
    return t1 - t2


@register_kl(Pareto, Exponential)
def _pareto_exponential(p, q):
    scale_rate = p.scale * q.rate
    result = (p.alpha / scale_rate).log() - p.alpha.reciprocal() + \
        p.alpha * scale_rate / (p.alpha - 1) - 1
    return M.where(p.alpha <= 1, math.inf, result)   # p's mean is infinite


@register_kl(Pareto, Gamma)
def _pareto_gamma(p, q):
    common = p.scale.log() + p.alpha.reciprocal()
    t1 = p.alpha.log() - common
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * common
    t4 = q.rate * p.alpha * p.scale / (p.alpha - 1)
    return M.where(p.alpha <= 1, math.inf, t1 + t2 + t3 + t4 - 1)


@register_kl(Pareto, Normal)
def _pareto_normal(p, q):
    var_normal = 2 * q.scale.pow(2)
    common = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t2 = p.alpha.reciprocal()
    t3 = p.alpha * common.pow(2) / (p.alpha - 2)
    t4 = (p.alpha * common - q.loc).pow(2)
    result = t1 - t2 + (t3 + t4) / var_normal - 1
    return M.where(p.alpha <= 2, math.inf, result)   # p's variance is infinite


@register_kl(Uniform, Pareto)
def _uniform_pareto(p, q):
    width = p.high - p.low
    t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
    t2 = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    result = t2 * (q.alpha + 1) - t1
    return M.where(p.low < q.support.lower_bound, math.inf, result)


# --- p puts mass where q has none: KL = inf -----------------------------------------------

_INFINITE_PAIRS = {
    Beta: ("concentration1", (Pareto,)),
    ContinuousBernoulli: ("probs", (Pareto,)),
    Exponential: ("rate", (ContinuousBernoulli, Pareto)),
    Gamma: ("concentration", (ContinuousBernoulli, Pareto)),
    Gumbel: ("loc", (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
    Laplace: ("loc", (ContinuousBernoulli, Pareto)),
    Normal: ("loc", (ContinuousBernoulli, Pareto)),
    Pareto: ("scale", (Beta, ContinuousBernoulli, Uniform)),
}


def _register_infinite(type_p, param: str, type_q) -> None:
    register_kl(type_p, type_q)(lambda p, q: _infinite(p, q, getattr(p, param)))


for _type_p, (_param, _types_q) in _INFINITE_PAIRS.items():
    for _type_q in _types_q:
        _register_infinite(_type_p, _param, _type_q)
