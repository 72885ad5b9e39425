"""`capturable=True` as torch 2.13's optimizers take it: a step over parameters on a device
CUDA graphs cannot capture from (the CPU) fails PyTorch's device assertion.

PyTorch's single-tensor and foreach update loops each assert that every parameter (and its
`step` state) lives on a capturable device before updating; `fused=True` takes another path
without the assertion. graphnet's parameters live where JAX's default backend is, so on the
CPU backend a capturable step raises PyTorch's AssertionError, and on a GPU one it runs.

NOTE: before, graphnet stepped capturable optimizers on the CPU, where the same script under
PyTorch stops at its first step."""

from __future__ import annotations

_DEVICES = ["cuda", "xpu", "hpu", "privateuseone"]
# what each optimizer's message names besides the parameters, per loop (single, foreach)
_NAMED = {"NAdam": ("params, mu_products and state_steps",
                    "params, mu_products, and state_steps"),
          "ASGD": ("params, mus, etas, and state_steps",) * 2}
# which loops also list "xla" (PyTorch's `supports_xla` per optimizer and loop)
_XLA = {"Adadelta": (False, False), "RMSprop": (True, True), "Rprop": (True, True)}


def check_capturable(optimizer, group: dict, params: list) -> None:
    """Raise PyTorch's AssertionError for a capturable step over parameters (with grads)
    on a device CUDA graphs do not support; `params` are those the step updates."""
    if not group.get("capturable") or group.get("fused") or not params:
        return
    if all(p.device.type in _DEVICES for p in params):
        return
    name = type(optimizer).__name__
    loop = 1 if group.get("foreach") else 0
    devices = _DEVICES + (["xla"] if _XLA.get(name, (True, False))[loop] else [])
    what = _NAMED.get(name, ("params and state_steps",) * 2)[loop]
    raise AssertionError(f"If capturable=True, {what} must be on supported devices: "
                         f"{devices}.")
