"""LKJCholesky (Lewandowski, Kurowicka & Joe, 2009): a distribution over Cholesky factors of
correlation matrices, sampled by the onion method; and CorrCholeskyTransform, the bijection
from unconstrained vectors onto those factors (`biject_to(corr_cholesky)`). Both as PyTorch
writes them. graphnet.distributions.transforms re-exports the transform.

>>> L = LKJCholesky(3, concentration=2.0).sample()     # L @ L.mT is a correlation matrix
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from . import constraints
from ._base import Distribution
from ._params import _t
from ._simplex import Beta
from .transforms import Transform

__all__ = ["CorrCholeskyTransform", "LKJCholesky"]


def _tril_indices(n: int, diag: int):
    """Row-major (rows, cols) of the entries with col <= row + diag, PyTorch's order."""
    return np.tril_indices(n, k=diag)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = _tril_indices(n, diag)
    return mat.flatten(-2)[..., rows * n + cols]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of tril_matrix_to_vec: zeros elsewhere. Built by gathering from
    [0, vec...], so it differentiates and compiles like any indexing."""
    from .. import cat, finfo

    size = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * size + 4 * abs(diag) * (diag + 1))
         ** 0.5) / 2
    # NOTE: abs(): PyTorch's test misses sizes just above a triangular number (4 -> n 3.37)
    # and then fails while scattering; this one names the problem
    if abs(round(n) - n) > finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {size} which cannot be expressed "
                         f"as the lower triangular part of a square D x D matrix.")
    n = round(n)
    rows, cols = _tril_indices(n, diag)
    source = np.zeros(n * n, np.int64)
    source[rows * n + cols] = np.arange(1, size + 1)
    padded = cat([vec.new_zeros(tuple(vec.shape[:-1]) + (1,)), vec], -1)
    return padded[..., source].reshape(tuple(vec.shape[:-1]) + (n, n))


class CorrCholeskyTransform(Transform):
    """Real vectors of size D (D - 1) / 2 to D x D Cholesky factors of correlation matrices:
    tanh onto (-1, 1), then stick breaking along each row so the rows have unit length."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def __eq__(self, other) -> bool:
        return isinstance(other, CorrCholeskyTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        from .. import eye, finfo
        from ..nn.functional import pad

        eps = finfo(x.dtype).eps
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        # y = sign(r) sqrt(z * cumprod(1 - z)) = r * sqrt(cumprod(1 - z)) with z = r^2
        z1m_cumprod_sqrt = (1 - r ** 2).sqrt().cumprod(-1)
        r = r + eye(r.shape[-1], dtype=r.dtype)
        return r * pad(z1m_cumprod_sqrt[..., :-1], [1, 0], value=1)

    def _inverse(self, y):
        from ..nn.functional import pad

        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = pad(y_cumsum[..., :-1], [1, 0], value=1)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(y_cumsum_shifted,
                                                                diag=-1).sqrt()
        return (t.log1p() - (-t).log1p()) / 2   # atanh

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        from ..nn.functional import softplus

        # NOTE: of x and the flattened strict lower triangle of y (the spaces differ in
        # dimension); diag=-2 saves shifting the cumulative sums right
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        stick_breaking = 0.5 * tril_matrix_to_vec(y1m_cumsum, diag=-2).log().sum(-1)
        tanh = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking + tanh

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        size = shape[-1]
        d = round((0.25 + 2 * size) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != size:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)


class LKJCholesky(Distribution):
    """LKJCholesky(dim, concentration): density proportional to det(L L^T) **
    (concentration - 1) over dim x dim correlation Cholesky factors L; concentration 1 is
    uniform over correlation matrices. No rsample, as in PyTorch."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        from .. import arange, cat

        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        self.concentration = _t(concentration)
        # the Beta draws of the onion method (Sec. 3.2 of the paper), vectorised
        marginal_conc = self.concentration + 0.5 * (dim - 2)
        offset = arange(dim - 1, dtype=self.concentration.dtype)
        offset = cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(tuple(self.concentration.shape), (dim, dim), validate_args)
        self._validate_params()

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self)) if _instance is None else _instance
        new.dim = self.dim
        new.concentration = self.concentration.expand(*batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self._event_shape, self._validate_args)
        return new

    def sample(self, sample_shape=()) -> Tensor:
        from .. import cat, finfo, zeros_like
        from .._autograd import no_grad
        from .._factories import _random_op

        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = _random_op("normal", self._extended_shape(sample_shape), y.dtype,
                                  None).tril(-1)
            u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
            # the first row is all zeros (0 / 0 above): zero it
            u_hypersphere = cat([zeros_like(u_hypersphere[..., :1, :]),
                                 u_hypersphere[..., 1:, :]], -2)
            w = y.sqrt() * u_hypersphere
            diag = (1 - (w ** 2).sum(-1)).clamp(min=finfo(w.dtype).tiny).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value) -> Tensor:
        from .. import arange, mvlgamma

        value = self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag_elems.log()).sum(-1)
        # normalisation (page 1999 of the paper), through the multivariate log-gamma
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = alpha.lgamma() * dm1
        numerator = mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        return unnormalized - (pi_constant + numerator - denominator)
