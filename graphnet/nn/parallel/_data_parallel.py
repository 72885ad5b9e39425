"""`nn.DataParallel(model)`: PyTorch's attributes and single-device behaviour on top of the
SPMD wrapper (graphnet/nn/parallel/_ddp.py).

On a machine without accelerators PyTorch's DataParallel only wraps the module: `.module`
is it, `forward` calls it, `state_dict()` keys gain the `module.` prefix and
`device_ids == []`. graphnet does the same whenever the mesh holds one CPU device, and
calls the module directly on any one-device mesh (PyTorch's `len(device_ids) == 1` path).
Over several devices the batch is split over them as DistributedDataParallel does; the
numbers are those of one device on the whole batch, as PyTorch's gather gives them."""

from __future__ import annotations

from typing import Generic, TypeVar

from .._module import Module
from ._ddp import DataParallel as _SpmdDataParallel

T = TypeVar("T", bound=Module)


def _device_index(device) -> int:
    """PyTorch's device index from an int or a device (`cuda:1` -> 1)."""
    if isinstance(device, int):
        return device
    index = getattr(device, "index", None)
    if index is None:
        raise ValueError(f"DataParallel: expected a device index or a device with an index, "
                         f"got {device!r}")
    return index


class DataParallel(_SpmdDataParallel, Generic[T]):
    """PyTorch's signature. With one CPU device (PyTorch without accelerators) it holds
    `module` and `device_ids = []` only and `forward` is `module(*inputs, **kwargs)`; with
    accelerators it also has PyTorch's `dim` and `output_device`.

    >>> net = graphnet.nn.DataParallel(graphnet.nn.Linear(4, 2))
    >>> list(net.state_dict())
    ['module.weight', 'module.bias']
    """

    def __init__(self, module: T, device_ids=None, output_device=None, dim: int = 0,
                 *, mesh=None):
        super().__init__(module, dim=dim, mesh=mesh)
        devices = list(self.mesh.devices.flat)
        if len(devices) == 1 and devices[0].platform == "cpu":
            self.device_ids = []   # NOTE: PyTorch keeps nothing else when it finds no accelerator
            return
        ids = (list(range(len(devices))) if device_ids is None
               else [_device_index(d) for d in device_ids])
        self.dim = dim
        self.device_ids = ids
        self.output_device = ids[0] if output_device is None else _device_index(output_device)

    def _single_device(self) -> bool:
        return self.mesh.devices.size == 1

    def _place_state(self) -> None:
        if not self._single_device():   # one device: the module's arrays stay as they are
            super()._place_state()

    def forward(self, *inputs, **kwargs):
        if self._single_device():
            return self.module(*inputs, **kwargs)
        return super().forward(*inputs, **kwargs)
