"""`graphnet.amp`: mixed precision as torch.amp has it: `autocast` and `GradScaler`.

`autocast("cpu", dtype=graphnet.bfloat16)` runs each op in the dtype PyTorch's CPU autocast
gives it (matmul, linear and convolutions in bfloat16 or float16, losses in float32, the rest
in their inputs' dtypes; graphnet/_autocast.py has the lists), eagerly and compiled;
parameters keep their dtype and get gradients in it. `autocast("cuda")` without a GPU warns
and disables itself, as in PyTorch. `GradScaler` scales the loss, unscales the grads, skips a
step whose grads are not finite and adapts its scale, eagerly, with PyTorch's numbers;
disabled (or "cuda" without a GPU) it passes everything through."""

from __future__ import annotations

import warnings

import jax

from .._autograd import no_grad
from .._errors import TraceError
from ._autocast_mode import _has_gpu, autocast, is_autocast_available

__all__ = ["autocast", "GradScaler", "is_autocast_available"]

class GradScaler:
    """Dynamic loss scaling (torch.amp.GradScaler): `scaler.scale(loss).backward()`,
    `scaler.step(opt)`, `scaler.update()`."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self._device = device
        if enabled and device == "cuda" and not _has_gpu():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            enabled = False
        self._enabled = enabled
        self._scale, self._growth_factor = float(init_scale), float(growth_factor)
        self._backoff_factor, self._growth_interval = float(backoff_factor), int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def _state(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"unscaled": False,
                                                               "found_inf": False})

    def unscale_(self, optimizer) -> None:
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        inverse, found = 1.0 / self._scale, False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if not isinstance(p.grad._value, jax.Array):
                        raise TraceError("GradScaler reads whether the grads are finite, which a "
                                         "compiled function cannot; call the scaler outside it")
                    p.grad = p.grad * inverse
                    found = found or not bool(p.grad.isfinite().all())
        state.update(unscaled=True, found_inf=found)

    def step(self, optimizer, *args, **kwargs):
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        state = self._state(optimizer)
        if not state["unscaled"]:
            self.unscale_(optimizer)
        state["stepped"] = True
        if state["found_inf"]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        else:
            found = any(s["found_inf"] for s in self._per_optimizer.values())
            if found:
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer.clear()

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


