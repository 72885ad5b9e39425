"""Datasets: anything with `__getitem__` (and usually `__len__`), plus the ready-made
`TensorDataset`, `Subset`, `ConcatDataset` and `random_split`, as in `torch.utils.data`."""

from __future__ import annotations

import bisect
import math
import warnings
from typing import Generic, Sequence, TypeVar

import numpy as np

from ... import _factories as fac
from ..._tensor import Tensor


T_co = TypeVar("T_co", covariant=True)


# NOTE: Generic, as PyTorch's: typed code writes `class Pairs(Dataset[tuple])` and
# `Subset[int]`, which raised "type 'Dataset' is not subscriptable"
class Dataset(Generic[T_co]):
    """Base class of map-style datasets: subclass it and define `__getitem__` and `__len__`.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return graphnet.tensor(float(i)), i * i
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


def _take(tensor: Tensor, index):
    """`tensor[index]`: a row is a view, as PyTorch's (an in-place edit of a sample reaches the
    dataset). Eagerly an int index is a kernel argument, so one kernel serves every row."""
    if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
        n = tensor.shape[0]
        if not -n <= int(index) < n:
            raise IndexError(f"index {int(index)} is out of bounds for dimension 0 with size {n}")
        return tensor[int(index)]
    return tensor[index]


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are rows of the given tensors: `TensorDataset(x, y)[i] == (x[i], y[i])`."""

    def __init__(self, *tensors: Tensor):
        sizes = [t.shape[0] if t.dim() else None for t in tensors]
        if None in sizes:   # torch's t.size(0) on a 0-d tensor
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        if any(s != sizes[0] for s in sizes):
            shapes = ", ".join(str(list(t.shape)) for t in tensors)
            raise AssertionError(f"Size mismatch between tensors (TensorDataset's tensors "
                                 f"need the same first dimension; got shapes {shapes})")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(_take(t, index) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices
        # PyTorch's rule: the DataLoader fetches a batch through __getitems__, so a subclass
        # that transforms samples in __getitem__ alone would see its transform skipped
        if type(self).__getitem__ is not Subset.__getitem__ \
                and type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. When "
                f"subclassing Subset and overriding __getitem__, you must also override "
                f"__getitems__ to ensure DataLoader works correctly with your custom logic. "
                f"A simple implementation:\n\ndef __getitems__(self, indices):\n"
                f"    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """Several datasets one after another (what `dataset_a + dataset_b` returns)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")  # PyTorch's type
        from ._iterable import IterableDataset  # NOTE: _iterable imports this module
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise AssertionError("ConcatDataset does not support IterableDataset "
                                 "(use ChainDataset to chain iterable datasets)")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Fractions summing to 1 become counts; the remainder goes one by one to the first
    splits (PyTorch's rule), so `[0.5, 0.5]` of 11 items is `[6, 5]`. Other lengths are
    counts, which must sum to `n`."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):    # [-0.5, 1.5] sums to 1 too: PyTorch refuses
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=3)
        return counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {list(lengths)} sum to {sum(lengths)}, "
                         f"but the dataset has {n} samples; pass counts that sum to {n} or "
                         f"fractions that sum to 1")
    if isinstance(sum(lengths), float):   # PyTorch's randperm(sum(lengths)) refuses a float
        raise TypeError(f"random_split: lengths that are not fractions summing to 1 must be "
                        f"integer counts, got {list(lengths)}")
    return [int(length) for length in lengths]


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths (counts, or
    fractions summing to 1). `generator` (a `graphnet.Generator`) makes it repeatable; by
    default the global generator is used, so `graphnet.manual_seed` fixes the split.

    >>> train, test = random_split(TensorDataset(x, y), [0.8, 0.2],
    ...                            generator=graphnet.Generator().manual_seed(42))
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = fac.randperm(n, generator=generator).tolist()
    subsets, start = [], 0
    for count in counts:
        subsets.append(Subset(dataset, order[start:start + count]))
        start += count
    return subsets
