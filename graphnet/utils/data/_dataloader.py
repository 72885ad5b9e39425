"""`DataLoader`: iterate over a dataset in (shuffled) mini-batches.

Data is loaded in the main process. `num_workers`, `pin_memory` and the other process
options are accepted so PyTorch code runs unchanged; the batches are PyTorch's
single-process ones, in its order when nothing is shuffled. A shuffled order comes from
graphnet's generator, whose stream is not PyTorch's: seeded runs repeat, but not torch's order."""

from __future__ import annotations

from typing import Generic

import numpy as np

from ... import _factories as fac
from ..._grad_fn_names import renamed
from ._collate import default_collate, default_convert
from ._dataset import Subset, T_co, TensorDataset
from ._iterable import IterableDataset, batches_of
from ._sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader(Generic[T_co]):
    """Batches of `dataset`, e.g. `DataLoader(TensorDataset(x, y), batch_size=64,
    shuffle=True)`.

    `shuffle=True` draws a new order every epoch from `generator` (a `graphnet.Generator`)
    or, by default, from the global generator: after `graphnet.manual_seed(s)` the epochs
    come in the same order on every run. `drop_last=True` drops a final short batch.

    >>> for x, y in DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True):
    ...     loss = F.cross_entropy(model(x), y)
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; got {num_workers!r}")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 "and batch_sampler options")
            sampler = _Stream(dataset)
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.generator = generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name, value):
        # PyTorch's refusal: the batching was set up from these at construction, so a later
        # `loader.batch_size = 2` would be reported but not used
        if name in _FIXED and self.__dict__.get("_initialized"):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __iter__(self):
        return _LoaderIterator(self._batches(), self)

    def _batches(self):
        if isinstance(self.dataset, IterableDataset):
            for samples in batches_of(self.dataset, self.batch_size, self.drop_last):
                yield self.collate_fn(samples if self.batch_size is not None else samples[0])
            return
        if self.batch_sampler is None:  # no auto-batching: one converted sample at a time
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            yield self._fetch(indices)

    def _fetch(self, indices: list[int]):
        if self.collate_fn is default_collate:
            rows = _rows_of_tensor_dataset(self.dataset, indices)
            if rows is not None:
                return rows
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(indices) if callable(getitems) else \
            [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


_FIXED = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
          "persistent_workers")


class _LoaderIterator:
    """What iterating a DataLoader gives: its batches, and `len()` of the loader, as
    PyTorch's iterator has (a generator had none)."""

    def __init__(self, batches, loader):
        self._batches, self._loader = batches, loader

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)


class _Stream:
    """The "sampler" of an iterable dataset: its length, when it has one (PyTorch's
    len(loader) for an iterable dataset is len(dataset) // batch_size, rounded as batches)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self):
        return iter(())


def _rows_of_tensor_dataset(dataset, indices: list[int]):
    """A TensorDataset batch (possibly through Subsets) gathered with one indexing op per
    tensor. It equals default_collate of the samples, without one op per sample. None where
    a fetch could run other code: a subclass, or an instance given its own `__getitems__`
    (what the DataLoader calls first), whose samples only its own code can give."""
    while type(dataset) is Subset and "__getitems__" not in vars(dataset):
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset or "__getitems__" in vars(dataset):
        return None
    if any(isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer))
           for i in indices):
        # NOTE: a sampler of bools (or other keys): PyTorch indexes each tensor with each key,
        # so `sampler=[True, False]` gives rows of shapes [1, ...] and [0, ...] that do not
        # stack. As integers here they were rows 1 and 0
        return None
    n = len(dataset)
    if any(not -n <= i < n for i in indices):
        bad = next(i for i in indices if not -n <= i < n)
        raise IndexError(f"index {bad} is out of bounds for a dataset of {n} samples")
    index = fac.tensor([i % n for i in indices])
    # named as the stack default_collate makes in PyTorch (StackBackward0), not an index
    return [renamed(t[index], "StackBackward0", "getitem") for t in dataset.tensors]
