"""`graphnet.amp`: mixed precision as torch.amp has it: `autocast` and `GradScaler`.

`autocast("cpu", dtype=graphnet.bfloat16)` runs each op in the dtype PyTorch's CPU autocast
gives it (matmul, linear and convolutions in bfloat16 or float16, losses in float32, the rest
in their inputs' dtypes; graphnet/_autocast.py has the lists), eagerly and compiled;
parameters keep their dtype and get gradients in it. `autocast("cuda")` without a GPU warns
and disables itself, as in PyTorch. `GradScaler` scales the loss, unscales the grads, skips a
step whose grads are not finite and adapts its scale with PyTorch's numbers (the scale is
a graph input of a compiled `scaler.scale(loss)`, graphnet/amp/_grad_scaler.py);
disabled (or "cuda" without a GPU) it passes everything through."""

from __future__ import annotations

from ._autocast_mode import autocast, is_autocast_available
from ._custom_function import custom_bwd, custom_fwd
from ._grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "GradScaler", "is_autocast_available"]
