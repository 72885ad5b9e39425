"""MultivariateNormal, parameterised by a covariance, a precision or a lower Cholesky factor;
everything is computed from the Cholesky factor L (covariance = L L^T)."""

from __future__ import annotations

import math

import numpy as np

from .._factories import _random_op
from .._tensor import Tensor
from . import constraints
from ._base import Distribution


def _precision_to_scale_tril(precision: Tensor) -> Tensor:
    """The lower Cholesky factor of inv(precision), without forming the inverse: the
    Cholesky factor of the flipped precision, flipped and transposed, is inv(L)."""
    from .. import eye, linalg

    flipped = linalg.cholesky(precision.flip((-2, -1)))
    l_inv = flipped.flip((-2, -1)).mT
    identity = eye(precision.shape[-1], dtype=precision.dtype)
    return linalg.solve_triangular(l_inv, identity, upper=False)


def _batch_mahalanobis(scale_tril: Tensor, diff: Tensor) -> Tensor:
    """|L^{-1} diff|^2 over the last dim, broadcasting L's batch against diff's."""
    from .. import linalg

    n = diff.shape[-1]
    batch = np.broadcast_shapes(tuple(scale_tril.shape[:-2]), tuple(diff.shape[:-1]))
    tril = scale_tril.expand(*batch, n, n)
    solved = linalg.solve_triangular(tril, diff.expand(*batch, n).unsqueeze(-1), upper=False)
    return solved.squeeze(-1).pow(2).sum(-1)


class MultivariateNormal(Distribution):
    """N(loc, covariance) over vectors: give exactly one of `covariance_matrix`,
    `precision_matrix` or `scale_tril`."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        from .. import linalg

        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        matrix = given[0]
        if matrix.dim() < 2:
            what = "scale_tril" if scale_tril is not None else \
                "covariance_matrix" if covariance_matrix is not None else "precision_matrix"
            raise ValueError(f"{what} must be at least two-dimensional, with optional "
                             f"leading batch dimensions")
        batch = tuple(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        expanded = matrix.expand(*batch, -1, -1)
        self._given = "scale_tril" if scale_tril is not None else \
            "covariance_matrix" if covariance_matrix is not None else "precision_matrix"
        self.__dict__[self._given] = expanded
        self.loc = loc.expand(*batch, -1)
        super().__init__(batch, tuple(loc.shape[-1:]), validate_args)
        self._validate_params()
        checked = self.__dict__[self._given]
        if checked is not expanded:
            # validated inside a compiled function (distributions/_checked.py): factor the
            # checked matrix, so the constraint's ValueError comes first, as in PyTorch (the
            # factorization's own LinAlgError, checked on the input before the program ran,
            # came first)
            covariance_matrix = checked if covariance_matrix is not None else None
            precision_matrix = checked if precision_matrix is not None else None
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def __getattr__(self, name):
        # NOTE: the two matrices not given are derived on first use, as PyTorch's lazy
        # properties; __getattr__ only runs when the attribute is not already set.
        if name == "scale_tril":
            value = self._unbroadcasted_scale_tril
        elif name == "covariance_matrix":
            value = self._unbroadcasted_scale_tril @ self._unbroadcasted_scale_tril.mT
        elif name == "precision_matrix":
            from .. import cholesky_inverse

            value = cholesky_inverse(self._unbroadcasted_scale_tril)
        else:
            raise AttributeError(f"'MultivariateNormal' object has no attribute '{name}'")
        return value.expand(*self._batch_shape, *self._event_shape, *self._event_shape)

    def _params(self):
        return {"loc": self.loc, self._given: self.__dict__[self._given]}

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            *self._batch_shape, *self._event_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = _random_op("normal", shape, self.loc.dtype, None)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        diff = value - self.loc
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - half_log_det

    def entropy(self) -> Tensor:
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return h if len(self._batch_shape) == 0 else h.expand(*self._batch_shape)
