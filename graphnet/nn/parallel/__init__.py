"""`graphnet.nn.parallel`: PyTorch's data-parallel wrapper on JAX's SPMD engine."""

from ._data_parallel import DataParallel  # PyTorch's attributes, one-device path
from ._ddp import DistributedDataParallel

__all__ = ["DistributedDataParallel", "DataParallel"]
