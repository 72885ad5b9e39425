"""The memory axis: the peak bytes of one training step in each mode, per workload
(`axes.memory` in docs/compare.md).

- `static`: XLA's memory analysis of the program static mode runs for the step: the
  steady-state graph (traced again after the first call created the optimizer's state), as
  the donating `jax.jit` that runs it. Arguments, outputs, temporaries (XLA's arena of values
  live inside the program) and aliased bytes (outputs written over donated arguments: the
  parameters and optimizer state updated in place); `peak_bytes` = arguments + outputs +
  temporaries - aliased.
- `plan_estimate_bytes`: graphnet's own estimate of the same step's peak, the ExecutionPlan's
  `est_peak_bytes` (compiler/passes/memory.py). A `mode="plan"` compile builds that plan from
  the same traced graph through the same graph and plan passes, so it is read from the static
  artifact (`Artifact.plan`) instead of compiling the step a third time; a test checks the
  two agree.
- `dynamic`: measured by graphnet itself: one warm-up step, then one step inside
  `graphnet.track_memory()` (graphnet/_memory.py says what is counted). `peak_bytes` is what
  the step added at its peak above `baseline_bytes`, everything live before it (this
  workload's other variants included).
- `device`: on a device whose allocator keeps statistics (GPU), the same two steps' peaks
  above the bytes in use when each began, as the device counts them; None elsewhere.
- `ratio_dynamic_over_static`: (dynamic `peak_bytes` + static `argument_bytes`) / static
  `peak_bytes`. XLA's arguments are the state the step starts from (parameters, optimizer
  state, the batch), which dynamic mode holds in its baseline; adding them puts both sides
  on the same footing. NOTE: dynamic mode's count leaves out temporaries inside one eager
  kernel, while XLA's temporaries are all counted; where those dominate (convolutions on CPU)
  the ratio is below 1 for that reason."""

from __future__ import annotations

import gc
import inspect

import jax

import graphnet
from graphnet._x64 import x64

from ..artifact_dumps import normalize_memory
from ..workloads import WORKLOADS
from ._axis import Context

STATIC_WARMUP_CALLS = 2   # the first call creates optimizer state; the second retraces with it


def measure(ctx: Context) -> dict:
    """`axes.memory` for every workload in `ctx.workloads`."""
    results = {}
    for name in ctx.workloads:
        ctx.progress(f"memory: {name}")
        results[name] = measure_workload(name)
        gc.collect()   # this workload's arrays go before the next one's baseline
    return {"workloads": results}


def measure_workload(name: str) -> dict:
    factory = WORKLOADS[name]
    options = {"torch": False}
    if "plan" in inspect.signature(factory).parameters:
        options["plan"] = False   # its plan is read from the static artifact (docstring)
    workload = factory(**options)
    static, static_device = _static(workload)
    dynamic, dynamic_device = _dynamic(workload)
    device = None
    if static_device is not None and dynamic_device is not None:
        device = {"static_peak_bytes": static_device, "dynamic_peak_bytes": dynamic_device}
    ratio = None
    if static is not None and static["peak_bytes"] > 0:
        ratio = (dynamic["peak_bytes"] + static["argument_bytes"]) / static["peak_bytes"]
    return {"static": static, "dynamic": dynamic, "device": device,
            "ratio_dynamic_over_static": ratio}


def _static(workload) -> tuple[dict | None, int | None]:
    """(the `static` entry, or None where XLA reports no memory analysis or the workload has
    no static variant; the device's peak above its starting bytes in use for one
    steady-state call, or None)."""
    if "static" not in workload.compiled:
        return None, None
    step, handle = workload.variants["static"], workload.compiled["static"]
    for _ in range(STATIC_WARMUP_CALLS):
        step()
    jax.block_until_ready(workload.blockers["static"]())
    with graphnet.track_memory() as tracker:
        step()
        jax.block_until_ready(workload.blockers["static"]())
    artifact = handle.compiled.artifacts[-1]
    memory = xla_memory(artifact)
    plan = artifact.plan.est_peak_bytes
    device = _device_peak(tracker)
    if memory is None:
        return None, device
    return {"argument_bytes": memory["argument_size_in_bytes"],
            "output_bytes": memory["output_size_in_bytes"],
            "temp_bytes": memory["temp_size_in_bytes"],
            "alias_bytes": memory["alias_size_in_bytes"],
            "peak_bytes": static_peak(memory),
            "plan_estimate_bytes": int(plan) if plan is not None else None}, device


def xla_memory(artifact) -> dict | None:
    """XLA's memory analysis (runtime/artifact_dumps.normalize_memory) of the program
    `artifact` runs: its donating jax.jit, lowered for the graph's input types."""
    with x64():   # int64 labels stay int64, as when the step runs (graphnet/_x64.py)
        inputs = [jax.ShapeDtypeStruct(v.shape, v.dtype, weak_type=v.weak_type)
                  for v in artifact.graph.inputs]
        compiled = artifact.jitted.lower(*inputs).compile()
    return normalize_memory(compiled.memory_analysis())


def static_peak(memory: dict) -> int:
    """Arguments + outputs + temporaries - aliased: the bytes the program holds at once at
    most, as docs/compare.md defines static `peak_bytes`."""
    return (memory["argument_size_in_bytes"] + memory["output_size_in_bytes"]
            + memory["temp_size_in_bytes"] - memory["alias_size_in_bytes"])


def _dynamic(workload) -> tuple[dict, int | None]:
    step, blocker = workload.variants["dynamic"], workload.blockers["dynamic"]
    step()   # warm-up: kernels compiled, optimizer state created, grads allocated
    jax.block_until_ready(blocker())
    with graphnet.track_memory() as tracker:
        step()
        jax.block_until_ready(blocker())
    return ({"peak_bytes": tracker.peak_above_baseline,
             "baseline_bytes": tracker.baseline_bytes}, _device_peak(tracker))


def _device_peak(tracker) -> int | None:
    if tracker.device_peak_bytes is None or tracker.device_baseline_bytes is None:
        return None
    return tracker.device_peak_bytes - tracker.device_baseline_bytes
