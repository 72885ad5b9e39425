"""Closed-form KL(p || q) for the families added in _extreme.py, _half.py, _discrete_more.py,
_continuous_bernoulli.py and _lowrank_mvn.py, paired with themselves (and the low-rank
Gaussians with MultivariateNormal): PyTorch's formulas. Registered on import."""

from __future__ import annotations

import math

import numpy as np

from .. import _math as M
from ._arg_checks import EULER_CONSTANT
from ._continuous_bernoulli import ContinuousBernoulli
from ._discrete_more import Geometric
from ._extreme import Gumbel, Pareto
from ._half import HalfNormal
from ._kl import _normal_normal, kl_divergence, register_kl
from ._lowrank_mvn import LowRankMultivariateNormal, _lowrank_logdet, _lowrank_mahalanobis
from ._mvn import MultivariateNormal, _batch_mahalanobis
from ._transformed_more import InverseGamma


@register_kl(Gumbel, Gumbel)
def _gumbel_gumbel(p, q):
    ct1, ct2, ct3 = p.scale / q.scale, q.loc / q.scale, p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t2 = ct1 * EULER_CONSTANT
    t3 = (ct2 + (1 + ct1).lgamma() - ct3).exp()
    return t1 + t2 + t3 - (1 + EULER_CONSTANT)


@register_kl(Geometric, Geometric)
def _geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _halfnormal_halfnormal(p, q):
    return _normal_normal(p.base_dist, q.base_dist)


@register_kl(InverseGamma, InverseGamma)
def _inverse_gamma_inverse_gamma(p, q):
    # NOTE: PyTorch reaches the same value through TransformedDistribution's pair (equal
    # x ** -1 transforms, KL of the Gammas), which compares the exponents' values; both
    # exponents are -1 here by construction, so this also works inside graphnet.compile
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Pareto, Pareto)
def _pareto_pareto(p, q):
    scale_ratio, alpha_ratio = p.scale / q.scale, q.alpha / p.alpha
    result = q.alpha * scale_ratio.log() - alpha_ratio.log() + alpha_ratio - 1
    # p puts mass below q's lower bound, where q has none
    return M.where(p.support.lower_bound < q.support.lower_bound, math.inf, result)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _continuous_bernoulli_continuous_bernoulli(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


def _trace_xxt(x):
    """trace(x @ x.mT) over the batch: the sum of squares of each matrix."""
    return x.pow(2).sum((-2, -1))


def _same_event(p, q, what: str) -> None:
    if tuple(p.event_shape) != tuple(q.event_shape):
        raise ValueError(f"KL-divergence between two {what} with different event shapes "
                         f"cannot be computed")


def _woodbury_factor(q):
    """A with inv(q's covariance) = inv(D) - A^T A."""
    from .. import linalg

    wt_dinv = q._unbroadcasted_cov_factor.mT / q._unbroadcasted_cov_diag.unsqueeze(-2)
    return linalg.solve_triangular(q._capacitance_tril, wt_dinv, upper=False)


def _q_lowrank_terms(p, q):
    """log det(q cov) and q's Mahalanobis term of (q.loc - p.loc)."""
    log_det = _lowrank_logdet(q._unbroadcasted_cov_diag, q._capacitance_tril)
    maha = _lowrank_mahalanobis(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag,
                                q.loc - p.loc, q._capacitance_tril)
    return log_det, maha


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _lowrank_lowrank(p, q):
    _same_event(p, q, "Low Rank Multivariate Normals")
    q_log_det, term3 = _q_lowrank_terms(p, q)
    term1 = q_log_det - _lowrank_logdet(p._unbroadcasted_cov_diag, p._capacitance_tril)
    A = _woodbury_factor(q)
    p_diag, q_diag = p._unbroadcasted_cov_diag, q._unbroadcasted_cov_diag
    term21 = (p_diag / q_diag).sum(-1)
    term22 = _trace_xxt(p._unbroadcasted_cov_factor * q_diag.rsqrt().unsqueeze(-1))
    term23 = _trace_xxt(A * p_diag.sqrt().unsqueeze(-2))
    term24 = _trace_xxt(A @ p._unbroadcasted_cov_factor)
    term2 = term21 + term22 - term23 - term24
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _mvn_lowrank(p, q):
    _same_event(p, q, "(Low Rank) Multivariate Normals")
    q_log_det, term3 = _q_lowrank_terms(p, q)
    p_tril = p._unbroadcasted_scale_tril
    term1 = q_log_det - 2 * p_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    A = _woodbury_factor(q)
    term21 = _trace_xxt(p_tril * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1))
    term22 = _trace_xxt(A @ p_tril)
    return 0.5 * (term1 + term21 - term22 + term3 - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _lowrank_mvn(p, q):
    from .. import linalg

    _same_event(p, q, "(Low Rank) Multivariate Normals")
    q_tril = q._unbroadcasted_scale_tril
    term1 = 2 * q_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) - \
        _lowrank_logdet(p._unbroadcasted_cov_diag, p._capacitance_tril)
    term3 = _batch_mahalanobis(q_tril, q.loc - p.loc)
    batch = tuple(np.broadcast_shapes(tuple(q_tril.shape[:-2]),
                                      tuple(p._unbroadcasted_cov_factor.shape[:-2])))
    n = p.event_shape[0]
    q_tril = q_tril.expand(*batch, n, n)
    p_factor = p._unbroadcasted_cov_factor.expand(*batch, n, p.cov_factor.shape[-1])
    p_diag = p._unbroadcasted_cov_diag.sqrt().diag_embed().expand(*batch, n, n)
    term21 = _trace_xxt(linalg.solve_triangular(q_tril, p_factor, upper=False))
    term22 = _trace_xxt(linalg.solve_triangular(q_tril, p_diag, upper=False))
    return 0.5 * (term1 + term21 + term22 + term3 - p.event_shape[0])
