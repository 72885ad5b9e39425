"""`graphnet.nn.parallel`: PyTorch's data-parallel wrapper on JAX's SPMD engine."""

from ._ddp import DataParallel, DistributedDataParallel

__all__ = ["DistributedDataParallel", "DataParallel"]
