"""`DistributedDataParallel(model)`: the model's parameters and buffers replicated over a
device mesh and every tensor argument of `forward` split along its batch dimension.

PyTorch runs one process per device and all-reduces gradient buckets after backward.
Here one program spans the mesh's devices (and processes, after
`graphnet.distributed.init()`): XLA's SPMD partitioner computes each device's share of the
batch and inserts the all-reduce that makes every replica's gradient the mean over the
global batch, so the numbers are those of one device on the whole batch. BatchNorm's batch
statistics are over the global batch too (PyTorch's SyncBatchNorm, not DDP's per-replica
statistics). It works eagerly (each op runs on the sharded arrays) and inside
`graphnet.compile`, where the split becomes a sharding constraint in the one program."""

from __future__ import annotations

from ... import distributed
from ..._mode import tracing
from ..._tensor import Tensor
from ...distributed import _sharding
from .._module import Module


def _map_tensors(value, fn):
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)):
        mapped = [_map_tensors(v, fn) for v in value]
        return type(value)(*mapped) if hasattr(value, "_fields") else type(value)(mapped)
    if isinstance(value, dict):
        return {k: _map_tensors(v, fn) for k, v in value.items()}
    return value


class DistributedDataParallel(Module):
    """PyTorch's signature; `mesh=` (default `graphnet.distributed.mesh()`: every device on
    the data axis) is graphnet's. `device_ids`, `output_device`, buckets, `static_graph`
    and `find_unused_parameters` concern PyTorch's per-process reducer and change nothing
    here; `dim` must be 0."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 *, mesh=None):
        super().__init__()
        if dim != 0:
            raise NotImplementedError("DistributedDataParallel splits inputs along dimension "
                                      f"0 only, got dim={dim}")
        if process_group is not None:
            raise NotImplementedError("process groups other than the default one are not "
                                      "supported: pass mesh= instead")
        self.module = module
        self.__dict__["mesh"] = mesh if mesh is not None else distributed.mesh()
        self._place_state()

    def _place_state(self) -> None:
        """Replicate parameters and buffers (again after `load_state_dict` or `.to()` gave
        them new arrays); a no-op when they already are."""
        sharding = _sharding.replicated(self.mesh)
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            _sharding.put_state(t, sharding)

    def forward(self, *inputs, **kwargs):
        if not tracing():
            self._place_state()
        batch = _sharding.batch_size_of((inputs, kwargs))
        split = (lambda t: _sharding.split_input(t, self.mesh, batch,
                                                 "DistributedDataParallel input"))
        return self.module(*_map_tensors(inputs, split), **_map_tensors(kwargs, split))

    def extra_repr(self) -> str:
        return ""

    def no_sync(self):
        """PyTorch's context for gradient accumulation without communication: here the
        all-reduce is part of each backward program, so it only returns a null context."""
        import contextlib

        return contextlib.nullcontext()


class DataParallel(DistributedDataParallel):
    """`nn.DataParallel(model)`: the same SPMD wrapper over this process's devices."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 *, mesh=None):
        super().__init__(module, dim=dim, mesh=mesh)
