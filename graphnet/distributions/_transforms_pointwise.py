"""Transforms that act entry by entry or on the last dims of one tensor: `AbsTransform`,
`PowerTransform`, `SoftmaxTransform`, `StickBreakingTransform`, `LowerCholeskyTransform`,
`PositiveDefiniteTransform` and `CumulativeDistributionTransform`, as PyTorch defines them.
graphnet.distributions.transforms re-exports them (transforms.py holds the first ones).

>>> t = StickBreakingTransform()
>>> y = t(x)                      # x of shape (..., K) -> a point of the K+1 simplex
>>> t.log_abs_det_jacobian(x, y)
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import constraints
from ._params import _t
from .transforms import Transform

__all__ = ["AbsTransform", "CumulativeDistributionTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "SoftmaxTransform",
           "StickBreakingTransform"]


def _tiny(t: Tensor) -> float:
    from .. import finfo

    return finfo(t.dtype).tiny


def _needs_dims(shape, n: int = 1):
    if len(shape) < n:
        raise ValueError("Too few dimensions on input")
    return shape


class AbsTransform(Transform):
    """y = |x| (HalfNormal, HalfCauchy); not bijective, so `inv` is the identity."""

    domain = constraints.real
    codomain = constraints.positive

    def __eq__(self, other) -> bool:
        return isinstance(other, AbsTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class PowerTransform(Transform):
    """y = x ** exponent on the positive reals (Weibull, InverseGamma, Kumaraswamy)."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size: int = 0):
        super().__init__(cache_size)
        self.exponent = _t(exponent)

    @property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other) -> bool:
        from .._errors import TraceError
        from ._base import _eager

        if not isinstance(other, PowerTransform):
            return False
        if self.exponent is other.exponent:
            return True
        if not (_eager(self.exponent) and _eager(other.exponent)):
            raise TraceError("PowerTransform == PowerTransform compares the exponents' "
                             "values, which a compiled function cannot read: compare them "
                             "eagerly, outside graphnet.compile")
        return bool((self.exponent == other.exponent).all())

    __hash__ = object.__hash__

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return tuple(np.broadcast_shapes(tuple(shape), tuple(self.exponent.shape)))

    inverse_shape = forward_shape


class SoftmaxTransform(Transform):
    """y = softmax(x) over the last dim; not bijective (`inv` is log, one of many)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other) -> bool:
        return isinstance(other, SoftmaxTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        probs = (x - x.max(-1, keepdim=True).values).exp()
        return probs / probs.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        return _needs_dims(shape)

    inverse_shape = forward_shape


def _stick_offset(x: Tensor, size: int) -> Tensor:
    """K, K-1, ..., 1 for x of last dim K (as the (K + 1)-simplex's stick breaking
    centres the logits: zeros map to the uniform point)."""
    return size - x.new_ones((x.shape[-1],)).cumsum(-1)


class StickBreakingTransform(Transform):
    """Real vectors of size K to the simplex of size K + 1 by breaking a stick: bijective
    (`biject_to(simplex)`); LogisticNormal pushes a Normal through it."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other) -> bool:
        return isinstance(other, StickBreakingTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        from .. import finfo
        from ..nn.functional import pad

        offset = _stick_offset(x, x.shape[-1] + 1)
        z = (x - offset.log()).sigmoid().clamp(min=finfo(x.dtype).tiny,
                                               max=1.0 - finfo(x.dtype).eps)
        z_cumprod = (1 - z).cumprod(-1)
        return pad(z, [0, 1], value=1) * pad(z_cumprod, [1, 0], value=1)

    def _inverse(self, y):
        y_crop = y[..., :-1]
        offset = _stick_offset(y_crop, y.shape[-1])
        # NOTE: clamped because 1 - cumsum can reach 0 (or below) by rounding when the last
        # entry is ~0, as PyTorch does
        remaining = (1 - y_crop.cumsum(-1)).clamp(min=_tiny(y))
        return y_crop.log() - remaining.log() + offset.log()

    def log_abs_det_jacobian(self, x, y):
        from ..nn.functional import logsigmoid

        x = x - _stick_offset(x, x.shape[-1] + 1).log()
        # 1 - sigmoid(x) = exp(-x) sigmoid(x)
        return (-x + logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        shape = tuple(_needs_dims(shape))
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        shape = tuple(_needs_dims(shape))
        return shape[:-1] + (shape[-1] - 1,)


class LowerCholeskyTransform(Transform):
    """Square matrices to lower-triangular ones with a positive diagonal (exp of the
    diagonal, the strict lower triangle kept): `transform_to(lower_cholesky)`."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other) -> bool:
        return isinstance(other, LowerCholeskyTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(Transform):
    """Square matrices to positive-definite ones: L L^T of LowerCholeskyTransform's L."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other) -> bool:
        return isinstance(other, PositiveDefiniteTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y):
        from .. import linalg

        return LowerCholeskyTransform().inv(linalg.cholesky(y))


class CumulativeDistributionTransform(Transform):
    """y = distribution.cdf(x), onto the unit interval (copulas); the log-Jacobian is the
    distribution's log density."""

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size: int = 0):
        super().__init__(cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)
