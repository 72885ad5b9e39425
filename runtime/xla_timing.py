"""How long JAX and XLA spend compiling a call, from JAX's own monitoring events.

`with compile_timer() as seconds: fn(*args)` fills `seconds` with the durations JAX records
while the call compiles: `jax_lowering_s` (tracing the lowered Python function to a jaxpr,
then to StableHLO) and `xla_compile_s` (XLA's backend compile). A program taken from JAX's
persistent compilation cache records no backend compile, so `xla_compile_s` is then 0."""

from __future__ import annotations

import contextlib

import jax

_EVENTS = {"/jax/core/compile/jaxpr_trace_duration": "jax_lowering_s",
           "/jax/core/compile/jaxpr_to_mlir_module_duration": "jax_lowering_s",
           "/jax/core/compile/backend_compile_duration": "xla_compile_s"}
_active: list = []          # the collectors of the calls being timed (innermost last)
_registered = False


def _listener(event: str, duration: float, **_metadata) -> None:
    key = _EVENTS.get(event)
    if key is not None and _active:
        _active[-1][key] += duration


@contextlib.contextmanager
def compile_timer():
    global _registered
    if not _registered:
        jax.monitoring.register_event_duration_secs_listener(_listener)
        _registered = True
    seconds = {"jax_lowering_s": 0.0, "xla_compile_s": 0.0}
    _active.append(seconds)
    try:
        yield seconds
    finally:
        _active.pop()
