"""`graphnet.amp`: mixed-precision boilerplate (`autocast`, `GradScaler`) as torch.amp has it.

What runs: `autocast(..., enabled=False)` and `autocast("cuda")` on a machine without a GPU
are no-ops, exactly as in PyTorch (which warns and disables itself there); `GradScaler` scales
the loss, unscales the grads, skips a step whose grads are not finite and adapts its scale,
eagerly, with PyTorch's numbers; disabled (or "cuda" without a GPU) it passes everything
through. What is refused: an enabled autocast region on a present device. graphnet does not
rewrite op dtypes behind the user's back; cast explicitly (`model.to(torch.bfloat16)`,
`x.half()`), and the error says so."""

from __future__ import annotations

import warnings

import jax

from .._autograd import no_grad
from .._errors import TraceError

__all__ = ["autocast", "GradScaler", "is_autocast_available"]


def _has_gpu() -> bool:
    from .. import cuda

    return cuda.is_available()


def is_autocast_available(device_type: str) -> bool:
    return device_type in ("cpu", "cuda")


class autocast:
    """`with autocast(device_type, dtype=None, enabled=True):` (also a decorator)."""

    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        if self._enabled and device_type == "cuda" and not _has_gpu():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", stacklevel=2)
            self._enabled = False
        if self._enabled:
            raise NotImplementedError(
                f"autocast({device_type!r}) would change op dtypes implicitly, which graphnet "
                f"does not do; cast explicitly instead (model.to(graphnet.bfloat16), "
                f"x.half()), or pass enabled=False")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


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


