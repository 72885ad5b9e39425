"""`graphnet.utils.data`: datasets, samplers and the DataLoader, as in `torch.utils.data`.

>>> from graphnet.utils.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
"""

from ._collate import default_collate, default_convert
from ._dataloader import DataLoader
from ._distributed import DistributedSampler
from ._dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from ._iterable import ChainDataset, IterableDataset, StackDataset, get_worker_info
from ._sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
    "default_collate", "default_convert", "Sampler", "SequentialSampler", "RandomSampler",
    "SubsetRandomSampler", "BatchSampler", "IterableDataset", "ChainDataset", "StackDataset",
    "get_worker_info", "WeightedRandomSampler", "DistributedSampler",
]
from . import dataloader, dataset, distributed, sampler  # noqa: E402,F401  (torch.utils.data.* paths)
