"""`graphnet.distributed`: PyTorch's `torch.distributed` process API, run by `jax.distributed`.

Every process runs the same script; `init()` connects them through JAX's coordinator
(process 0), after which `jax.devices()` lists the devices of all processes and one jitted
program can span them. graphnet adds no communication of its own: collectives are XLA's.

    python -m graphnet.distributed.launch --nproc 2 train.py     # or torchrun

>>> import graphnet as torch
>>> import graphnet.distributed as dist
>>> dist.init()                              # reads RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
>>> dist.get_rank(), dist.get_world_size()   # jax.process_index(), jax.process_count()
>>> mesh = dist.mesh()                       # a jax.sharding.Mesh ("data", "model"), all devices
"""

from ._mesh import mesh
from ._process_group import (
    ReduceOp, all_reduce, barrier, destroy_process_group, get_rank, get_world_size, init,
    init_process_group, is_available, is_initialized,
)

__all__ = [
    "init", "init_process_group", "is_available", "is_initialized", "get_rank",
    "get_world_size", "barrier", "destroy_process_group", "all_reduce", "ReduceOp", "mesh",
]
