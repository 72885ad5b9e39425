"""`graphnet.cpu`, as `torch.cpu`: the host device's questions (always there, one of it),
plus two top-level torch names that belong with the host: `OutOfMemoryError` and the
deprecated `*_autocast_cpu_*` spellings of the autocast state functions.

>>> graphnet.cpu.is_available(), graphnet.cpu.device_count(), graphnet.cpu.current_device()
(True, 1, 'cpu')
"""

from __future__ import annotations

import warnings

import jax

from .amp import _autocast_mode as _amp
from .amp._device_spellings import device_amp

__all__ = ["current_device", "device_count", "is_available", "is_initialized", "set_device",
           "synchronize"]


class OutOfMemoryError(RuntimeError):
    """torch.OutOfMemoryError, so that `except torch.OutOfMemoryError:` clauses work.

    NOTE: graphnet raises none itself: an allocation XLA cannot make surfaces as JAX's own
    error (RESOURCE_EXHAUSTED), which such a clause does not catch."""


# `torch.cpu.amp.autocast(...)` / `torch.cpu.amp.GradScaler(...)`: deprecated spellings of
# graphnet.amp's, with PyTorch's FutureWarning
amp = device_amp("cpu")


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """Accepted and ignored, as torch.cpu.set_device: there is one host device."""


def synchronize(device=None) -> None:
    """Wait for the work queued so far (JAX dispatches asynchronously, on the host too), so
    that a timer read after it measures the work."""
    for array in jax.live_arrays():
        array.block_until_ready()


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    """Deprecated `is_autocast_enabled("cpu")`, with torch's DeprecationWarning."""
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return _amp.is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    _amp.set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return _amp.get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    _amp.set_autocast_dtype("cpu", dtype)
