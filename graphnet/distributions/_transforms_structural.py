"""Transforms that rearrange or combine other transforms: `IndependentTransform` (more
event dims), `ReshapeTransform` (event shape), `CatTransform` and `StackTransform` (one
transform per slice), as PyTorch defines them. graphnet.distributions.transforms
re-exports them.

>>> t = CatTransform([ExpTransform(), identity_transform], dim=0, lengths=[2, 3])
>>> y = t(x)                     # exp of x[:2], x[2:5] unchanged
"""

from __future__ import annotations

from .._tensor import Size
from . import constraints
from .transforms import Transform, _sum_rightmost

__all__ = ["CatTransform", "IndependentTransform", "ReshapeTransform", "StackTransform"]


class IndependentTransform(Transform):
    """`base_transform` with `reinterpreted_batch_ndims` more rightmost dims treated as one
    event: the maps are unchanged, the log-Jacobian is summed over those dims."""

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int,
                 cache_size: int = 0):
        super().__init__(cache_size)
        self.base_transform = base_transform
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def domain(self):
        return constraints.independent(self.base_transform.domain,
                                       self.reinterpreted_batch_ndims)

    @property
    def codomain(self):
        return constraints.independent(self.base_transform.codomain,
                                       self.reinterpreted_batch_ndims)

    @property
    def bijective(self):
        return self.base_transform.bijective

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x):
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        result = self.base_transform.log_abs_det_jacobian(x, y)
        return _sum_rightmost(result, self.reinterpreted_batch_ndims)

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)

    def __repr__(self) -> str:
        return f"IndependentTransform({self.base_transform!r}, " \
               f"{self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """Reshape the rightmost `in_shape` dims to `out_shape` (same number of elements); the
    log-Jacobian is zero."""

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size: int = 0):
        self.in_shape, self.out_shape = Size(in_shape), Size(out_shape)
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size)

    @property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def _call(self, x):
        batch = tuple(x.shape[:x.dim() - len(self.in_shape)])
        return x.reshape(batch + tuple(self.out_shape))

    def _inverse(self, y):
        batch = tuple(y.shape[:y.dim() - len(self.out_shape)])
        return y.reshape(batch + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x, y):
        return x.new_zeros(tuple(x.shape[:x.dim() - len(self.in_shape)]))

    def forward_shape(self, shape):
        return _swap_tail(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return _swap_tail(shape, self.out_shape, self.in_shape)


def _swap_tail(shape, old: Size, new: Size):
    if len(shape) < len(old):
        raise ValueError("Too few dimensions on input")
    cut = len(shape) - len(old)
    if tuple(shape[cut:]) != tuple(old):
        # NOTE: the tail printed as given (a tuple or a Size), as PyTorch prints it
        raise ValueError(f"Shape mismatch: expected {shape[cut:]} but got {old}")
    return tuple(shape[:cut]) + tuple(new)


def _check_dim_size(t, dim: int, size: int, what: str, expected: str) -> None:
    """PyTorch's checks: `what` is "x" or "y" (log_abs_det_jacobian's wording) or
    "x tensor" / "y tensor" (the maps' wording)."""
    name, noun = what.split()[0], what.split()[-1]
    if not -t.dim() <= dim < t.dim():
        raise AssertionError(f"dim {dim} out of range for {noun} with {t.dim()} dimensions")
    if t.shape[dim] != size:
        raise AssertionError(f"{name}.size({dim}) = {t.shape[dim]} must equal "
                             f"{expected} {size}")


def _all_transforms(tseq) -> list:
    if not all(isinstance(t, Transform) for t in tseq):
        raise AssertionError("All elements of tseq must be Transform instances")
    return list(tseq)


class CatTransform(Transform):
    """`tseq[i]` applied to the i-th block of `lengths[i]` entries along `dim`, the results
    concatenated (as torch.cat)."""

    def __init__(self, tseq, dim: int = 0, lengths=None, cache_size: int = 0):
        self.transforms = _all_transforms(tseq)
        super().__init__(cache_size)
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match transforms "
                                 f"({len(self.transforms)})")
        self.dim = dim

    @property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self) -> int:
        return sum(self.lengths)

    def _blocks(self, t, what: str):
        _check_dim_size(t, self.dim, self.length, what, "length")
        start = 0
        for length in self.lengths:
            yield t.narrow(self.dim, start, length)
            start += length

    def _call(self, x):
        from .. import cat

        parts = [t(xs) for t, xs in zip(self.transforms, self._blocks(x, "x tensor"))]
        return cat(parts, self.dim)

    def _inverse(self, y):
        from .. import cat

        parts = [t.inv(ys) for t, ys in zip(self.transforms, self._blocks(y, "y tensor"))]
        return cat(parts, self.dim)

    def log_abs_det_jacobian(self, x, y):
        from .. import cat

        parts = []
        for t, xs, ys in zip(self.transforms, self._blocks(x, "x"), self._blocks(y, "y")):
            part = t.log_abs_det_jacobian(xs, ys)
            if t.event_dim < self.event_dim:
                part = _sum_rightmost(part, self.event_dim - t.event_dim)
            parts.append(part)
        # NOTE: blocks along a batch dim are concatenated; along an event dim they are
        # parts of one event, so their log-Jacobians add up
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        return cat(parts, dim) if dim < 0 else sum(parts)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """`tseq[i]` applied to the i-th entry along `dim`, the results stacked (as
    torch.stack)."""

    def __init__(self, tseq, dim: int = 0, cache_size: int = 0):
        self.transforms = _all_transforms(tseq)
        super().__init__(cache_size)
        self.dim = dim

    def _slices(self, t, what: str):
        _check_dim_size(t, self.dim, len(self.transforms), what, "len(transforms)")
        return [t.select(self.dim, i) for i in range(t.shape[self.dim])]

    def _call(self, x):
        from .. import stack

        parts = [t(xs) for t, xs in zip(self.transforms, self._slices(x, "x tensor"))]
        return stack(parts, self.dim)

    def _inverse(self, y):
        from .. import stack

        parts = [t.inv(ys) for t, ys in zip(self.transforms, self._slices(y, "y tensor"))]
        return stack(parts, self.dim)

    def log_abs_det_jacobian(self, x, y):
        from .. import stack

        xs, ys = self._slices(x, "x"), self._slices(y, "y")
        return stack([t.log_abs_det_jacobian(a, b)
                      for t, a, b in zip(self.transforms, xs, ys)], self.dim)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)
