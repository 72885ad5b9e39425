"""Iterable-style datasets (`IterableDataset`, `ChainDataset`), `StackDataset`, and
`get_worker_info`.

An iterable dataset yields samples instead of answering indices: the DataLoader batches
them as they come (no sampler, no shuffle), as PyTorch does. graphnet loads data in the
main process, so `get_worker_info()` is None there, as it is in PyTorch's main process."""

from __future__ import annotations

import itertools
from typing import Iterable, TypeVar

from ._dataset import Dataset, T_co

T_stack = TypeVar("T_stack", tuple, dict)


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """Subclass it and define `__iter__` (a stream of samples, e.g. read from files)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other: "IterableDataset") -> "ChainDataset":
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset[T_stack]):
    """Samples of several equally long datasets side by side: `StackDataset(a, b)[i]` is
    `(a[i], b[i])`, `StackDataset(x=a, y=b)[i]` is `{"x": a[i], "y": b[i]}`."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        datasets = args or tuple(kwargs.values())
        if not datasets:
            raise ValueError("At least one dataset should be passed")
        self._length = len(datasets[0])
        if any(self._length != len(d) for d in datasets):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else dict(kwargs)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples at `indices`, each dataset asked once through its own `__getitems__`
        where it has one (what a DataLoader calls for a batch, as PyTorch's does)."""
        named = isinstance(self.datasets, dict)
        columns = {}
        for key, d in (self.datasets.items() if named else enumerate(self.datasets)):
            if callable(getattr(d, "__getitems__", None)):
                column = d.__getitems__(indices)
                if len(column) != len(indices):
                    raise ValueError(f"Nested dataset's output size mismatch. Expected "
                                     f"{len(indices)}, got {len(column)}")
            else:
                column = [d[i] for i in indices]
            columns[key] = column
        rows = [{k: c[n] for k, c in columns.items()} for n in range(len(indices))]
        return rows if named else [tuple(row.values()) for row in rows]

    def __len__(self) -> int:
        return self._length


def get_worker_info():
    """None: graphnet's DataLoader loads in the main process (PyTorch's answer there)."""
    return None


def batches_of(iterable, batch_size: int | None, drop_last: bool):
    """Lists of `batch_size` samples from a stream (the last one short unless `drop_last`);
    single samples when `batch_size` is None."""
    it = iter(iterable)
    if batch_size is None:
        yield from ([s] for s in it)
        return
    while batch := list(itertools.islice(it, batch_size)):
        if len(batch) < batch_size and drop_last:
            return
        yield batch
