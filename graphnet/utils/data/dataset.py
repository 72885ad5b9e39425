"""`torch.utils.data.dataset`'s names, for code that imports them from there."""

from __future__ import annotations

from . import (  # noqa: F401
    ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
    random_split,
)
