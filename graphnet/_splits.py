"""Splitting as PyTorch spells it: tensor_split (sections or indices), hsplit/vsplit/dsplit
and split_with_sizes, with PyTorch's errors. Each is slices of the input (getitem), so it runs
the same eagerly and compiled; graphnet/_shape_more.py re-exports them."""

from __future__ import annotations

from typing import Sequence

from . import _layout as L
from ._shape_more import wrap_dim
from ._tensor import Tensor


def _slice(input: Tensor, dim: int, start: int, stop: int) -> Tensor:
    return input[(slice(None),) * dim + (slice(start, stop),)]


def tensor_split(input: Tensor, indices_or_sections=None, dim: int = 0, *, sections=None,
                 indices=None, tensor_indices_or_sections=None) -> tuple:
    """Split along `dim` into `n` nearly equal parts (an int: the first `size % n` parts
    are one longer) or at `indices` (a sequence); a view of every part, as a tuple.
    PyTorch's keywords name the kind: `sections=`, `indices=`, `tensor_indices_or_sections=`."""
    given = [v for v in (indices_or_sections, sections, indices, tensor_indices_or_sections)
             if v is not None]
    if len(given) != 1:
        raise TypeError("tensor_split() takes one of sections, indices or "
                        "tensor_indices_or_sections")
    indices_or_sections = given[0]
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    dim = wrap_dim(dim, input.dim())
    if isinstance(indices_or_sections, Tensor):
        held = indices_or_sections
        if held.dtype.is_floating_point or held.dim() > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {held.dim()} dims")
        indices_or_sections = int(held) if held.dim() == 0 else [int(i) for i in held.tolist()]
    size = input.shape[dim]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        small, extra = divmod(size, n)
        bounds = [0]
        for i in range(n):
            bounds.append(bounds[-1] + small + (1 if i < extra else 0))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [size]
    return tuple(_slice(input, dim, max(min(a, size), 0) if a >= 0 else a,
                        max(min(b, size), 0) if b >= 0 else b)
                 for a, b in zip(bounds[:-1], bounds[1:]))


def _direction_split(name: str, input: Tensor, sections, dim: int, min_rank: int) -> tuple:
    if input.dim() < min_rank:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_rank} "
                           f"dimension, but got a tensor with {input.dim()} dimensions!")
    if isinstance(sections, int):
        size = input.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {size} is not divisible by the "
                               f"split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, sections) -> tuple:
    """`tensor_split` along dim 1 (dim 0 of a 1-D tensor); an int must divide that size."""
    return _direction_split("hsplit", input, sections, 1 if input.dim() > 1 else 0, 1)


def vsplit(input: Tensor, sections) -> tuple:
    """`tensor_split` along dim 0 of a tensor of 2 or more dims."""
    return _direction_split("vsplit", input, sections, 0, 2)


def dsplit(input: Tensor, sections) -> tuple:
    """`tensor_split` along dim 2 of a tensor of 3 or more dims."""
    return _direction_split("dsplit", input, sections, 2, 3)


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    """Parts of exactly `split_sizes` along `dim`; they must add up to its size."""
    dim = wrap_dim(dim, input.dim())
    sizes = [int(s) for s in split_sizes]
    if sum(sizes) != input.shape[dim] or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[dim]} (input tensor's size at dimension {dim}), but "
                           f"got split_sizes={sizes}")
    return L.split(input, sizes, dim)
