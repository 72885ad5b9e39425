"""`torch.utils.data.dataloader`'s names, for code that imports them from there."""

from __future__ import annotations

from . import (  # noqa: F401
    BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, Sampler, SequentialSampler,
    default_collate, default_convert, get_worker_info,
)
