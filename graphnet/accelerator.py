"""`graphnet.accelerator`: PyTorch's device-generic questions (`torch.accelerator`), answered
from JAX's backends as `graphnet.cuda` answers them, so the tutorials' first line runs
unchanged:

    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \\
        else "cpu"

The accelerator is a JAX GPU ("cuda"); without one, the questions that need a device raise
PyTorch's RuntimeError."""

from __future__ import annotations

from . import cuda
from ._device import device as _device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "current_device_idx", "set_device_index", "set_device_idx", "synchronize"]


def is_available() -> bool:
    """True when JAX sees a GPU."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """`device("cuda")` when JAX sees a GPU, else None."""
    del check_available
    return _device("cuda") if cuda.is_available() else None


def device_count() -> int:
    return cuda.device_count()


def _need_device() -> None:
    if not cuda.is_available():   # PyTorch's words
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index() -> int:
    _need_device()
    return 0


current_device_idx = current_device_index


def set_device_index(device) -> None:
    """Only device 0 (graphnet runs one device per process; see graphnet.distributed)."""
    _need_device()
    index = int(getattr(device, "index", device) or 0)
    if index != 0:
        raise RuntimeError(f"graphnet.accelerator.set_device_index({index}): graphnet uses "
                           f"device 0 of each process")


set_device_idx = set_device_index


def synchronize(device=None) -> None:
    _need_device()
    cuda.synchronize(device)
