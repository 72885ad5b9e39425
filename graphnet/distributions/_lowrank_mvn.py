"""LowRankMultivariateNormal: N(loc, W W^T + diag(D)) with W of shape (n, m), m << n; the
density, entropy and precision go through the m x m capacitance matrix I + W^T D^-1 W
(Woodbury), never an n x n factorisation."""

from __future__ import annotations

import math

import numpy as np

from .._factories import _random_op
from .._tensor import Size, Tensor
from . import constraints
from ._base import Distribution
from ._mvn import _batch_mahalanobis


def _batch_mv(matrix: Tensor, vector: Tensor) -> Tensor:
    return (matrix @ vector.unsqueeze(-1)).squeeze(-1)


def _capacitance_tril(W: Tensor, D: Tensor) -> Tensor:
    """Cholesky factor of I + W^T D^-1 W."""
    from .. import eye, linalg

    K = (W.mT / D.unsqueeze(-2)) @ W
    return linalg.cholesky(K + eye(W.shape[-1], dtype=W.dtype))


def _lowrank_logdet(D: Tensor, capacitance_tril: Tensor) -> Tensor:
    """log det(W W^T + D) = log det(capacitance) + log det(D)."""
    return 2 * capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + D.log().sum(-1)


def _lowrank_mahalanobis(W, D, x, capacitance_tril) -> Tensor:
    """x^T (W W^T + D)^-1 x by Woodbury."""
    wt_dinv_x = _batch_mv(W.mT / D.unsqueeze(-2), x)
    return (x.pow(2) / D).sum(-1) - _batch_mahalanobis(capacitance_tril, wt_dinv_x)


class LowRankMultivariateNormal(Distribution):
    """Gaussian over vectors with covariance `cov_factor @ cov_factor.mT + diag(cov_diag)`.

    >>> d = LowRankMultivariateNormal(zeros(5), cov_factor=randn(5, 2), cov_diag=ones(5))
    >>> d.log_prob(d.rsample())
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape "
                             f"{Size(event_shape)}")
        m = cov_factor.shape[-1]
        try:
            batch = np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(cov_factor.shape[:-2]),
                                        tuple(cov_diag.shape[:-1]))
        except ValueError as e:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from e
        self.loc = loc.expand(*batch, *event_shape)
        self.cov_factor = cov_factor.expand(*batch, *event_shape, m)
        self.cov_diag = cov_diag.expand(*batch, *event_shape)
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = cov_factor, cov_diag
        super().__init__(batch, event_shape, validate_args)
        # NOTE: checked before the Cholesky factorisation, which a negative cov_diag
        # could make fail with a less helpful error
        self._validate_params()
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self)) if _instance is None else _instance
        new.__dict__.update(self.__dict__)
        shape = tuple(batch_shape) + tuple(self._event_shape)
        new.loc, new.cov_diag = self.loc.expand(*shape), self.cov_diag.expand(*shape)
        new.cov_factor = self.cov_factor.expand(*shape, self.cov_factor.shape[-1])
        Distribution.__init__(new, batch_shape, self._event_shape, self._validate_args)
        return new

    def _square(self, matrix: Tensor) -> Tensor:
        return matrix.expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        var = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return var.expand(*self._batch_shape, *self._event_shape)

    @property
    def scale_tril(self) -> Tensor:
        """D^1/2 chol(I + D^-1/2 W W^T D^-1/2): the Cholesky factor of the covariance,
        through a matrix whose eigenvalues are at least 1 (well conditioned)."""
        from .. import eye, linalg

        n = self._event_shape[0]
        d_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        w = self._unbroadcasted_cov_factor / d_sqrt
        K = w @ w.mT + eye(n, dtype=w.dtype)
        return self._square(d_sqrt * linalg.cholesky(K))

    @property
    def covariance_matrix(self) -> Tensor:
        W = self._unbroadcasted_cov_factor
        return self._square(W @ W.mT + self._unbroadcasted_cov_diag.diag_embed())

    @property
    def precision_matrix(self) -> Tensor:
        """inv(W W^T + D) = inv(D) - inv(D) W inv(C) W^T inv(D) (Woodbury)."""
        from .. import linalg

        D = self._unbroadcasted_cov_diag
        wt_dinv = self._unbroadcasted_cov_factor.mT / D.unsqueeze(-2)
        A = linalg.solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        return self._square(D.reciprocal().diag_embed() - A.mT @ A)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        w_shape = shape[:-1] + tuple(self.cov_factor.shape[-1:])
        eps_w = _random_op("normal", w_shape, self.loc.dtype, None)
        eps_d = _random_op("normal", shape, self.loc.dtype, None)
        return self.loc + _batch_mv(self._unbroadcasted_cov_factor, eps_w) + \
            self._unbroadcasted_cov_diag.sqrt() * eps_d

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        diff = value - self.loc
        M = _lowrank_mahalanobis(self._unbroadcasted_cov_factor,
                                 self._unbroadcasted_cov_diag, diff, self._capacitance_tril)
        log_det = _lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + log_det + M)

    def entropy(self) -> Tensor:
        log_det = _lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        return H if len(self._batch_shape) == 0 else H.expand(*self._batch_shape)
