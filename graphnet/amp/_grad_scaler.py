"""`GradScaler`: dynamic loss scaling, as torch.amp.GradScaler does it in torch 2.13.

`scaler.scale(loss).backward()`, `scaler.step(opt)` (unscales the grads, skips the step when
one is not finite), `scaler.update()` (backs the scale off after a skipped step, grows it
after `growth_interval` good ones). The numbers are PyTorch's: the scale is a float32 value
(`init_scale=0.1` reads back as 0.10000000149011612 once `scale()` ran), the grads are
unscaled by the float32 reciprocal in float32 arithmetic, and a growth that would overflow
float32 is skipped. The misuse PyTorch refuses is refused with its errors.

In a compiled function (`graphnet.compile`) `scaler.scale(loss)` multiplies by a graph input
that is read from the scaler on every call, as an optimizer's learning rate is, so a scale
changed by `update()` outside is used by the next compiled call without recompiling.

NOTE: before, the scale was a Python float multiplied in at trace time: the compiled step
kept the traced scale after `update()` changed it, and returned wrongly scaled losses and
grads without an error. `step`, `unscale_`, `update` and the setters stay outside a compiled
function (each raises TraceError inside one): they decide on the host whether the grads are
finite and change the scaler's Python state, which a compiled program cannot repeat.

>>> scaler = graphnet.amp.GradScaler("cpu")
>>> scaler.scale(loss).backward()
>>> scaler.step(optimizer)
>>> scaler.update()
"""

from __future__ import annotations

import warnings
import weakref
from collections import abc, defaultdict
from enum import Enum

import numpy as np

from .. import _dispatch
from .. import _dtype as dt
from .._autograd import no_grad
from .._errors import TraceError
from .._mode import tracing
from .._tensor import Tensor
from ._autocast_mode import _has_gpu

__all__ = ["OptState", "GradScaler"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_optimizer_state() -> dict:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _float32(value) -> float:
    """`value` rounded to float32, as PyTorch's float32 scale tensor holds it (inf when it
    overflows: a growth that does is then dropped)."""
    with np.errstate(over="ignore"):
        return float(np.float32(value))


# {tracer: {id(scaler): index}}: the scale inputs of two scalers in one program need names
_TRACE_ORDER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FIX = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier in "
        "the iteration.")


class GradScaler:
    """Dynamic loss scaling (torch.amp.GradScaler): `scaler.scale(loss).backward()`,
    `scaler.step(opt)`, `scaler.update()`. Disabled (or "cuda" without a GPU, with PyTorch's
    warning) it passes everything through."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not _has_gpu():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:   # NOTE: as PyTorch, a disabled scaler holds none of these
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale: float | None = None          # set by the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: int | None = None
            self._per_optimizer_states: dict = defaultdict(_fresh_optimizer_state)

    # ---- scaling ----------------------------------------------------------------------------
    def scale(self, outputs):
        """`outputs` (a tensor, or an iterable of them) times the current scale, a float32
        number: a 0-dim bfloat16 loss comes back float32, as in PyTorch."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale_factor()
        factor: list = []

        def apply_scale(value):
            if isinstance(value, Tensor):
                if not factor:
                    factor.append(self._scale_factor())
                return value * factor[0]
            if isinstance(value, abc.Iterable):
                scaled = map(apply_scale, value)
                return type(value)(scaled) if isinstance(value, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _scale_factor(self) -> Tensor:
        """The scale as a 0-dim float32 tensor; traced, a graph input re-read on each call."""
        if self._scale is None:
            self._scale = _float32(self._init_scale)
            self._growth_tracker = int(self._init_growth_tracker)
        value = _dispatch.live_scalar(lambda: self._scale, self._trace_name())
        if isinstance(value, Tensor):
            return value.to(dt.float32)
        from .._factories import tensor

        return tensor(value, dtype=dt.float32)

    def _trace_name(self) -> str:
        mode = _dispatch.current_mode()
        if mode is None:
            return "grad_scaler.scale"
        seen = _TRACE_ORDER.setdefault(mode, {})
        index = seen.setdefault(id(self), len(seen))
        return f"grad_scaler{index or ''}.scale"

    def _check_scale_growth_tracker(self, funcname: str) -> None:
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + _FIX)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + _FIX)

    def _refuse_traced(self, method: str) -> None:
        if tracing():
            raise TraceError(
                f"GradScaler.{method} inside a compiled function: it decides on the host "
                f"whether the gradients are finite (a skipped step, a backed-off scale) and "
                f"changes the scaler's Python state, which a compiled program cannot repeat "
                f"on each call. Keep `scaler.scale(loss).backward()` inside the compiled "
                f"function and call scaler.step(optimizer) and scaler.update() after it.")

    # ---- unscaling and stepping -------------------------------------------------------------
    def unscale_(self, optimizer) -> None:
        """Divide the optimizer's grads by the scale, in place, noting whether any was not
        finite (checked before unscaling, as PyTorch does)."""
        if not self._enabled:
            return
        self._refuse_traced("unscale_()")
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inverse = _float32(1.0 / self._scale)   # float32(1 / double(scale)), as PyTorch
        state["found_inf_per_device"] = {"cpu": _unscale_grads(optimizer, inverse)}
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless `unscale_` ran) and run `optimizer.step(*args, **kwargs)` when
        every grad is finite; return what it returns (None for a skipped step)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._refuse_traced("step()")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None
        if not any(state["found_inf_per_device"].values()):
            result = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale=None) -> None:
        """Back the scale off if a step was skipped, grow it after `growth_interval` good
        steps; or set it to `new_scale` (a float, or a 1-element tensor)."""
        if not self._enabled:
            return
        self._refuse_traced("update()")
        self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale = _float32(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor "
                          "or torch.FloatTensor with requires_grad=False.")
                if new_scale.device.type != self._device or new_scale.numel() != 1 \
                        or new_scale.requires_grad is True:
                    raise AssertionError(reason)
                self._scale = _float32(new_scale.item())
        else:
            found = [f for s in self._per_optimizer_states.values()
                     for f in s["found_inf_per_device"].values()]
            if len(found) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale(any(found))
        self._per_optimizer_states = defaultdict(_fresh_optimizer_state)

    def _update_scale(self, found_inf: bool) -> None:
        """PyTorch's `_amp_update_scale_`: float32 scale times a double factor, stored as
        float32; a growth that overflows float32 is dropped."""
        if found_inf:
            self._scale = _float32(self._scale * self._backoff_factor)
            self._growth_tracker = 0
            return
        successful = self._growth_tracker + 1
        if successful == self._growth_interval:
            grown = _float32(self._scale * self._growth_factor)
            if np.isfinite(grown):
                self._scale = grown
            self._growth_tracker = 0
        else:
            self._growth_tracker = successful

    # ---- getters, setters, state ------------------------------------------------------------
    def _read(self, what: str, read):
        """`read()`; a trace that uses it is guarded on it (a changed value recompiles)."""
        _dispatch.depends_on(f"GradScaler.{what} is the value traced", read)
        return read()

    def get_scale(self) -> float:
        if self._enabled:
            return self._read("get_scale()", lambda: self._init_scale if self._scale is None
                              else self._scale)
        return 1.0

    def _get_growth_tracker(self) -> int:
        if self._enabled:
            return self._read("_get_growth_tracker()", lambda: self._init_growth_tracker
                              if self._growth_tracker is None else self._growth_tracker)
        return 0

    def get_growth_factor(self) -> float:
        return self._read("get_growth_factor()", lambda: self._growth_factor)

    def set_growth_factor(self, new_factor: float) -> None:
        self._refuse_traced("set_growth_factor()")
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._read("get_backoff_factor()", lambda: self._backoff_factor)

    def set_backoff_factor(self, new_factor: float) -> None:
        self._refuse_traced("set_backoff_factor()")
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._read("get_growth_interval()", lambda: self._growth_interval)

    def set_growth_interval(self, new_interval: int) -> None:
        self._refuse_traced("set_growth_interval()")
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        """scale, growth_factor, backoff_factor, growth_interval and _growth_tracker; {} when
        disabled."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self.get_growth_factor(),
                "backoff_factor": self.get_backoff_factor(),
                "growth_interval": self.get_growth_interval(),
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        self._refuse_traced("load_state_dict()")
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale = _float32(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = int(state_dict["_growth_tracker"])

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the "
                                     "beginning of an iteration, or at the end after "
                                     "scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def _unscale_grads(optimizer, inverse: float) -> bool:
    """Multiply every grad of `optimizer` by `inverse` in place, computing in float32 for
    half-precision grads (PyTorch's opmath); return whether any grad was not finite."""
    found = False
    with no_grad():
        for group in optimizer.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if grad.dtype is dt.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                found = found or not bool(grad.isfinite().all())
                wide = grad.float() if grad.dtype is dt.bfloat16 else grad
                grad.copy_((wide * inverse).to(grad.dtype))
    return found
