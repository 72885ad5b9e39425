"""`graphnet.cpu.amp` and `graphnet.cuda.amp`: the deprecated per-device spellings of
graphnet.amp's names, as torch 2.13 keeps them, each with PyTorch's FutureWarning.

`torch.cpu.amp.autocast(...)` is `autocast("cpu", ...)` (bfloat16 by default),
`torch.cuda.amp.GradScaler(...)` is `GradScaler("cuda", ...)`, and so on; each is a subclass
(or wrapper) of the graphnet.amp one, so `isinstance` checks and `with` blocks work alike.
graphnet/cpu.py and graphnet/cuda.py expose them as their `amp` attribute.

>>> with graphnet.cpu.amp.autocast():   # FutureWarning, then as graphnet.autocast("cpu")
...     y = model(x)
"""

from __future__ import annotations

import sys
import types
import warnings

from .. import _dtype as dt
from ._autocast_mode import autocast as _autocast
from ._custom_function import custom_bwd as _custom_bwd
from ._custom_function import custom_fwd as _custom_fwd
from ._grad_scaler import GradScaler as _GradScaler


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"`torch.{old}(args...)` is deprecated. Please use `torch.{new}` instead.",
                  FutureWarning, stacklevel=3)


def _autocast_for(device: str, default_dtype):
    class autocast(_autocast):
        __doc__ = (f"`torch.{device}.amp.autocast(enabled=True, dtype={default_dtype}, "
                   f"cache_enabled=True)`: deprecated `graphnet.autocast('{device}', ...)`.")

        def __init__(self, enabled: bool = True, dtype=default_dtype,
                     cache_enabled: bool = True):
            _deprecated(f"{device}.amp.autocast", f"amp.autocast('{device}', args...)")
            super().__init__(device, enabled=enabled, dtype=dtype,
                             cache_enabled=cache_enabled)

    autocast.__module__, autocast.__qualname__ = f"graphnet.{device}.amp", "autocast"
    return autocast


def _grad_scaler_for(device: str):
    class GradScaler(_GradScaler):
        __doc__ = (f"`torch.{device}.amp.GradScaler(...)`: deprecated "
                   f"`graphnet.amp.GradScaler('{device}', ...)`.")

        def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                     backoff_factor: float = 0.5, growth_interval: int = 2000,
                     enabled: bool = True) -> None:
            _deprecated(f"{device}.amp.GradScaler", f"amp.GradScaler('{device}', args...)")
            super().__init__(device, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval,
                             enabled=enabled)

    GradScaler.__module__, GradScaler.__qualname__ = f"graphnet.{device}.amp", "GradScaler"
    return GradScaler


def _cuda_custom_fwd(fwd=None, *, cast_inputs=None):
    """Deprecated `graphnet.amp.custom_fwd(..., device_type='cuda')`."""
    _deprecated("cuda.amp.custom_fwd", "amp.custom_fwd(args..., device_type='cuda')")
    return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def _cuda_custom_bwd(bwd):
    """Deprecated `graphnet.amp.custom_bwd(..., device_type='cuda')`."""
    _deprecated("cuda.amp.custom_bwd", "amp.custom_bwd(args..., device_type='cuda')")
    return _custom_bwd(bwd, device_type="cuda")


def device_amp(device: str) -> types.ModuleType:
    """The `graphnet.{device}.amp` module (registered so that `import graphnet.cpu.amp` and
    `from graphnet.cuda.amp import autocast` work)."""
    module = types.ModuleType(f"graphnet.{device}.amp")
    module.__doc__ = f"Deprecated: torch.{device}.amp's names, with PyTorch's FutureWarning."
    module.autocast = _autocast_for(device, dt.bfloat16 if device == "cpu" else dt.float16)
    module.GradScaler = _grad_scaler_for(device)
    module.__all__ = ["autocast", "GradScaler"]
    if device == "cuda":
        module.custom_fwd, module.custom_bwd = _cuda_custom_fwd, _cuda_custom_bwd
        module.__all__ += ["custom_fwd", "custom_bwd"]
    sys.modules[module.__name__] = module
    return module
