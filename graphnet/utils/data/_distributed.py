"""`DistributedSampler`: each process reads its own share of the dataset, as in PyTorch.

The indices (shuffled or not) are made a multiple of the process count, by repeating indices
from the start or, with `drop_last`, by dropping the tail, and process `rank` takes every
`num_replicas`-th one starting at `rank`. Every process therefore gets the same count, which
data-parallel training needs: a process with fewer batches would wait in a collective forever.

Without shuffling the indices equal PyTorch's. The shuffle is a graphnet `randperm` from a
generator seeded `seed + epoch`: the same on every process and repeatable, but not PyTorch's
order (the two libraries' random streams differ)."""

from __future__ import annotations

import math
from typing import Iterator, Sized

from ... import _factories as fac
from ... import _random
from ._dataset import T_co
from ._sampler import Sampler


class DistributedSampler(Sampler[T_co]):
    """Indices for process `rank` of `num_replicas` (both default to the process group's).

    >>> sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    >>> loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    >>> for epoch in range(epochs):
    ...     sampler.set_epoch(epoch)        # a new shuffle each epoch, the same on every rank
    ...     for x, y in loader: ...
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None,
                 rank: int | None = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False):
        if num_replicas is None or rank is None:
            from ... import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas:
            # the largest multiple of num_replicas that fits (PyTorch's formula)
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            generator = _random.Generator(seed=self.seed + self.epoch)
            indices = fac.randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:   # repeat from the start until every process gets num_samples
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        assert len(indices) == self.total_size, (len(indices), self.total_size)
        own = indices[self.rank:self.total_size:self.num_replicas]
        assert len(own) == self.num_samples, (len(own), self.num_samples)
        return iter(own)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use `seed + epoch` for the next shuffle; call it before each epoch's loop."""
        self.epoch = epoch
