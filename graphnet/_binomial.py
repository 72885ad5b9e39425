"""`graphnet.binomial(count, prob, generator=None)`: Binomial(count, prob) draws, as
`torch.binomial`: floats in count's dtype (float32 or float64), `count` and `prob`
broadcast together, 0 where count <= 0 or prob <= 0, `count` where prob >= 1, NaN where prob
is NaN. The draws come from JAX's binomial sampler (the distributions' `binomial_counts`
op), so they differ from PyTorch's; their distribution is the same.

PyTorch defines no derivative: its result requires grad when an input does, and backward
through it raises. So does graphnet's."""

from __future__ import annotations

from ._dispatch import dispatch
from ._no_derivative import without_derivative
from ._ops._promote import torch_name
from ._random import key
from ._tensor import Tensor

__all__ = ["binomial"]


def _check(count: Tensor, prob: Tensor) -> None:
    if not count.dtype.is_floating_point:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{torch_name(count.dtype)}")
    if prob.dtype != count.dtype:
        raise RuntimeError(f"Found dtype {torch_name(prob.dtype)} but expected "
                           f"{torch_name(count.dtype)}")
    if count.dtype.name not in ("float32", "float64"):
        raise NotImplementedError(f"\"binomial_cpu\" not implemented for "
                                  f"'{torch_name(count.dtype)}'")


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial draws: the number of successes in `count` trials of probability `prob`.

    >>> graphnet.binomial(graphnet.tensor([10.0, 20.0]), graphnet.tensor([0.5, 0.1])).shape
    graphnet.Size([2])
    """
    from ._shape_more import broadcast_tensors
    from ._math import where
    from .distributions import _random_ops  # noqa: F401  (registers the binomial_counts op)

    _check(count, prob)
    c, p = broadcast_tensors(count.detach(), prob.detach())
    draws = dispatch("binomial_counts", key(generator), c, p)
    # NOTE: PyTorch's sampler returns these before drawing; JAX's gives NaN for p outside [0, 1]
    draws = where((c <= 0) | (p <= 0), 0.0, where(p >= 1, c, draws))
    return without_derivative(draws, (count, prob), "binomial")
