"""Three axes built on the interleaved harness (runtime/bench.py): step time, numerics and
scaling.

Step time: each workload's variants (dynamic, static, plan, the hand-written `jax.jit` twin,
PyTorch eager) run interleaved in one process; the medians, the spread and every per-round
sample are kept, and the ratios come from the same run. Numerics falls out of the same run:
every variant has then taken the same number of training steps from the same weights on the
same batch, so the largest parameter difference from dynamic mode is the drift between
modes after that many steps. Scaling repeats the step-time measurement while one size
changes (batch, or model width) to show where dynamic mode's per-op overhead dominates and
where the arithmetic does."""

from __future__ import annotations

import inspect

import numpy as np

from .. import bench
from ..workloads import WORKLOADS
from ._axis import Context

RATIOS = [("static/jax", "static", "jax"), ("static/torch", "static", "torch"),
          ("dynamic/torch", "dynamic", "torch"), ("dynamic/static", "dynamic", "static"),
          ("plan/static", "plan", "static"), ("static/torch.compile", "static", "torch.compile")]


def build(name: str, ctx: Context, **sizes):
    """The workload `name` with PyTorch variants as `ctx` asks (torch.compile only where the
    workload offers it)."""
    factory = WORKLOADS[name]
    accepted = inspect.signature(factory).parameters
    kwargs = {k: v for k, v in sizes.items() if k in accepted}
    if "torch_compile" in accepted:
        kwargs["torch_compile"] = ctx.torch and ctx.torch_compile
    return factory(torch=ctx.torch, **kwargs)


def steps_and_rounds(ctx: Context) -> tuple[int, int]:
    return ctx.pick((3, 2), (10, 5), (20, 9))


def measure_step_time(ctx: Context, workloads: dict | None = None) -> tuple[dict, dict]:
    """(`axes.step_time`, `axes.numerics`) for `ctx.workloads` (docs/compare.md).
    `workloads` (name -> description) is filled in for the results' header."""
    steps, rounds = steps_and_rounds(ctx)
    timing, numerics = {}, {}
    for name in ctx.workloads:
        ctx.progress(f"step time: {name}")
        workload = build(name, ctx)
        result = bench.run(workload, steps=steps, rounds=rounds)
        if workloads is not None:
            workloads[name] = {"description": workload.description,
                               "variants": list(workload.variants)}
        variants = {}
        for variant, samples in result.samples.items():
            variants[variant] = {"samples_s": samples, "median_s": result.step_s[variant],
                                 "min_s": min(samples), "max_s": max(samples),
                                 "first_call_s": result.first_call_s[variant]}
        ratios = {label: result.ratio(a, b) for label, a, b in RATIOS
                  if result.ratio(a, b) is not None}
        timing[name] = {"variants": variants, "ratios": ratios}
        drift = parameter_drift(workload)
        if drift is not None:
            numerics[name] = {"max_abs_diff": drift}
    taken = 3 + steps * rounds   # first call, two warm-up steps, then the timed rounds
    return ({"settings": {"steps": steps, "rounds": rounds}, "workloads": timing},
            {"settings": {"steps": taken}, "workloads": numerics})


def parameter_drift(workload) -> dict | None:
    """Largest absolute parameter difference of every variant from `dynamic`, or None when
    the workload cannot list its parameters."""
    params = getattr(workload, "params", None) or {}
    if "dynamic" not in params:
        return None
    reference = [np.asarray(p, np.float64) for p in params["dynamic"]()]
    drift = {}
    for variant, read in params.items():
        if variant == "dynamic":
            continue
        values = [np.asarray(p, np.float64) for p in read()]
        if len(values) != len(reference) or any(a.shape != b.shape
                                                for a, b in zip(values, reference)):
            raise ValueError(f"{workload.name}: variant {variant}'s parameters do not line up "
                             f"with dynamic's ({len(values)} vs {len(reference)} arrays)")
        drift[variant] = float(max(np.max(np.abs(a - b)) if a.size else 0.0
                                   for a, b in zip(values, reference)))
    return drift


# (workload, axis, values, fixed sizes) per preset. Batch runs from 1 (dispatch-bound) to a
# few hundred; width multiplies the hidden sizes / channels.
SCALING = {
    "quick": [("mlp", "batch", [1, 32], {"sizes": (64, 64, 10)}),
              ("mlp", "width", [32, 128], {"batch": 16})],
    "default": [("mlp", "batch", [1, 8, 64, 256], {}),
                ("mlp", "width", [64, 256, 1024], {"batch": 64}),
                ("convnet", "batch", [1, 16, 128], {}),
                ("convnet", "width", [1, 2, 4], {"batch": 32})],
    "full": [("mlp", "batch", [1, 4, 16, 64, 256, 512], {}),
             ("mlp", "width", [32, 128, 512, 1024, 2048], {"batch": 64}),
             ("convnet", "batch", [1, 4, 16, 64, 256], {}),
             ("convnet", "width", [1, 2, 4, 8], {"batch": 32})],
}
SCALED_VARIANTS = ("dynamic", "static", "jax", "torch")


def _sizes(workload: str, axis: str, value: int, fixed: dict) -> dict:
    if axis == "batch":
        return {**fixed, "batch": value}
    if workload == "mlp":
        return {**fixed, "sizes": (784, value, value, 10)}
    return {**fixed, "width": value}


def measure_scaling(ctx: Context) -> dict:
    """`axes.scaling`: median step time per variant while one size changes."""
    plan = [row for row in SCALING[ctx.preset] if row[0] in WORKLOADS]
    steps, rounds = ctx.pick((2, 2), (5, 3), (10, 5))
    curves = []
    for workload_name, axis, values, fixed in plan:
        curve = {"workload": workload_name, "axis": axis, "values": list(values),
                 "variants": {}}
        for value in values:
            ctx.progress(f"scaling: {workload_name} {axis}={value}")
            workload = build(workload_name, ctx, **_sizes(workload_name, axis, value, fixed))
            for table in (workload.variants, workload.blockers):
                for variant in [v for v in table if v not in SCALED_VARIANTS]:
                    del table[variant]
            result = bench.run(workload, steps=steps, rounds=rounds)
            for variant, seconds in result.step_s.items():
                curve["variants"].setdefault(variant, []).append(seconds)
        curves.append(curve)
    return {"settings": {"steps": steps, "rounds": rounds,
                         "sizes": [{"workload": w, "axis": a, "fixed": {k: list(v) if
                                    isinstance(v, tuple) else v for k, v in f.items()}}
                                   for w, a, _, f in plan]},
            "curves": curves}
