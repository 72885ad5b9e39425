"""Drawing from distributions as PyTorch spells it: `bernoulli`, `multinomial`, `poisson`,
and the in-place fills `Tensor.random_`, `bernoulli_`, `exponential_`, `geometric_`,
`log_normal_`, `cauchy_`. Each takes PyTorch's `generator=`.

They are built from the uniform, normal and randint ops (graphnet/_ops/random.py), so they
thread RNG state through compiled programs like every other draw. The numbers differ from
PyTorch's (another generator); their distributions are the same (tests/test_sampling.py)."""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as dt
from ._dispatch import dispatch
from ._factories import _check_range, _random_op, checked_values
from ._ops._promote import torch_name
from ._random import check_integer_bounds, key, zero_grad_to
from ._tensor import Tensor

__all__ = ["bernoulli", "multinomial", "poisson"]


def _uniform(shape, dtype, generator) -> Tensor:
    return _random_op("uniform", tuple(shape), dtype, generator)


def _wide(dtype):
    """The dtype a draw for a `dtype` tensor is computed in: float64 for float64, else
    float32. NOTE: as PyTorch, which draws half-precision values in float and rounds the
    result; drawn in float16 or bfloat16, u took 1024 or 128 values, so an exponential never
    passed -log(2**-8), and bernoulli(p) compared against a rounded p."""
    return dt.float64 if dtype is dt.float64 else dt.float32


def _floating_input(kernel: str, input: Tensor) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{torch_name(input.dtype)}\'')


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability `input` (or `p`) at each position, else 0, in `input`'s dtype."""
    if p is None:
        _floating_input("bernoulli_tensor_cpu_p_", input)
    prob = checked_values(input.detach(), "probability") if p is None else _probability(p)
    draws = _uniform(input.shape, _wide(input.dtype), generator)
    if p is not None:   # PyTorch defines no derivative for bernoulli(input, p): one raises
        from ._no_derivative import without_derivative

        return without_derivative((draws < prob).to(input.dtype), (input,), "bernoulli")
    return zero_grad_to((draws < prob).to(input.dtype), input)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """`num_samples` category indices per row of (unnormalised) probabilities `input`
    (1-D or 2-D), without replacement unless `replacement=True`; int64."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{torch_name(input.dtype)}")
    probs = checked_values(input.detach(), "categories").to(dt.float32)
    rows = probs.reshape(-1, n)
    if replacement:   # inverse CDF: the first category whose cumulative share exceeds u
        cdf = rows.cumsum(-1) / rows.sum(-1, keepdim=True)
        u = _uniform((rows.shape[0], num_samples), dt.float32, generator)
        from ._sorting import searchsorted

        picks = searchsorted(cdf.contiguous(), u, right=True).clamp(max=n - 1)
    else:             # Gumbel top-k: k distinct categories with the sequential probabilities
        u = _uniform(rows.shape, dt.float32, generator)
        gumbel = -(-(u.clamp(min=1e-20)).log()).log()
        picks = (rows.log() + gumbel).topk(num_samples, dim=-1).indices
    return picks.reshape(tuple(input.shape[:-1]) + (num_samples,))


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson draws with rates `input` (a zero gradient to the rates, as PyTorch's)."""
    _floating_input("poisson_cpu", input)
    counts = dispatch("poisson", key(generator), checked_values(input.detach(), "rate"))
    return zero_grad_to(counts, input)


def random_(self: Tensor, from_=None, to=None, *, generator=None) -> Tensor:
    """Fill with integers from [from, to) (from [0, from) when only one bound is given;
    with none, PyTorch's default range for the dtype: `_default_high`)."""
    bounds = (from_ is not None) + (to is not None)
    if to is None:
        from_, to = (0, _default_high(self.dtype)) if from_ is None else (0, from_)
    from_ = 0 if from_ is None else from_
    _check_range("random_", from_, to)
    check_integer_bounds(self.dtype, int(from_), int(to))
    draws = _random_op("randint", (tuple(self.shape),), dt.int64, generator, low=int(from_),
                       high=int(to))
    overload = 2 if bounds == 0 else 1 if bounds == 1 else 0   # PyTorch's random_ overloads
    return _fill(self, draws, f"RandomBackward{overload}")


def _default_high(dtype) -> int:
    """One past the largest value `random_()` draws: 2**mantissa for a float (every integer
    up to it is exact), the largest value for an integer type, as PyTorch's."""
    mantissa = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
    if dtype.name in mantissa:
        return 2 ** mantissa[dtype.name] + 1
    if dtype.name == "bool":
        return 2
    return int(np.iinfo(dtype.np).max) + 1


def _fill(self: Tensor, values: Tensor, node: str) -> Tensor:
    """`self` holding `values`, its node named as PyTorch's draw (`ExponentialBackward0`)."""
    from ._autograd import copied_slices

    return copied_slices(self._assign(values.to(self.dtype)), node)


def _probability(p):
    if isinstance(p, Tensor):
        return checked_values(p.detach(), "probability")
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return p


def _positive(name: str, what: str, value) -> None:
    if not value > 0:
        raise RuntimeError(f"{name} expects {what} > 0.0, but found {what}={value:g}")


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    return _fill(self, _uniform(self.shape, dt.float32, generator) < _probability(p),
                 "BernoulliBackward1" if isinstance(p, Tensor) else "BernoulliBackward2")


def _continuous(name: str, self: Tensor, spelled: str | None = None) -> None:
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified "
                           f"{spelled or torch_name(self.dtype)}")


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    _continuous("Exponential", self)
    _positive("exponential_", "lambda", lambd)
    u = _uniform(self.shape, _wide(self.dtype), generator)
    return _fill(self, -(1 - u).log() / lambd, "ExponentialBackward0")


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    u = _uniform(self.shape, dt.float32, generator)
    return _fill(self, ((1 - u).log() / math.log1p(-p)).ceil().clamp(min=1),
                 "GeometricBackward0")


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    _positive("log_normal_", "std", std)
    _floating_input("log_normal_cpu", self)
    normal = _random_op("normal", tuple(self.shape), _wide(self.dtype), generator, float(mean),
                        float(std))
    return _fill(self, normal.exp(), "LogNormalBackward0")


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    from ._ops._promote import cpp_name

    _continuous("Cauchy", self, cpp_name(self.dtype))
    _positive("cauchy_", "sigma", sigma)
    u = _uniform(self.shape, _wide(self.dtype), generator)
    angle = math.pi * (u - 0.5)
    return _fill(self, median + sigma * angle.sin() / angle.cos(), "CauchyBackward0")


for _fn in (bernoulli, multinomial, random_, bernoulli_, exponential_, geometric_, log_normal_,
            cauchy_):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.poisson = poisson
