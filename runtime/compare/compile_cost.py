"""The compile-cost axis of `graphnet compare` (`axes.compile`, docs/compare.md): what the first
calls cost in each mode, where static's goes (tracing, graphnet's passes, JAX lowering, XLA
compile), after how many steps static's total time drops below dynamic's, and what a warm
JAX persistent compilation cache saves.

First calls are measured in this process on a freshly built workload, after graphnet's eager
kernel cache and JAX's in-memory caches are cleared: the axes run one after another in one
process, and without the clearing dynamic mode would find the per-op kernels an earlier axis
compiled for the same shapes, and look free. Each variant is called from its first call until
steady state (its warm-up, `warmup_s`): a training step builds two static graphs, because its
first call creates the optimizer state and the second runs the steady step, so "first call"
alone would leave half the compile out of the break-even. Steady steps are the interleaved
medians of runtime/bench.run. The cache study runs `_cache_probe` twice in fresh processes
sharing a new cache directory: the first fills it (cold), the second reads it (warm)."""

from __future__ import annotations

import os
import sys
import tempfile
import time

import jax

from .. import bench
from . import breakeven
from ._axis import Context
from ._subprocess import run_json_probe
from .timing import build, steps_and_rounds

NOTES = [
    "first_call_s: the first call of a freshly built workload, in the study's process, after "
    "graphnet's eager kernel cache and JAX's in-memory caches were cleared.",
    "warmup_s: each call from the first until steady state (at least 2; compiled variants "
    "until a call builds no new graph). A training step builds 2 static graphs: the first "
    "call creates the optimizer state, the second compiles the steady step.",
    "phases_s: summed over every graph static built during its warm-up (graphs), so it "
    "compares with sum(warmup_s['static']), not with first_call_s alone; the rest of those "
    "calls is running the programs and Python's own work.",
    "break_even.steps: the first n from which static's total stays strictly below dynamic's, "
    "total(n) = the warm-up calls, then median steady steps (a tie is not a crossing); null "
    "when static's step is not faster than dynamic's, or past horizon_steps.",
    "cache: static and dynamic warm-ups (and the hand-written jax.jit's, where the workload "
    "has one) in two fresh processes sharing a new JAX persistent compilation cache (every "
    "compile stored, however small or quick): cold fills it, warm reads it; the cold "
    "process also pays writing the cache.",
    "break_even.curve_steps: every warm-up call, the break-even and the step before it, and "
    "settings.curve_steps log-spaced n up to ten times the break-even (horizon "
    "curve_horizon_steps without one), fewer where they round to the same n.",
    "quick preset: static and dynamic only, no cache study.",
]
PROBED = ("static", "dynamic")
# Also timed cold and warm where a workload has it: the hand-written jax.jit, the floor a
# program compiled through JAX can reach on a warm first call (JAX traces and lowers it
# again, then XLA runs a loaded executable for the first time).
TWINS = ("jax",)
CURVE_HORIZON = 1000     # steps the cumulative curves run to when there is no break-even


def measure(ctx: Context) -> dict:
    """`axes.compile` for `ctx.workloads` (docs/compare.md, plus `warmup_s` and `graphs`).
    The persistent compilation cache is off while it measures (else a second run of the
    study would time warm first calls); the cold/warm study uses caches of its own."""
    import graphnet

    saved = graphnet.compile_cache_info()
    graphnet.set_compile_cache(None)
    try:
        return _measure(ctx)
    finally:
        graphnet.set_compile_cache(saved["dir"] if saved["enabled"] else None)


def _measure(ctx: Context) -> dict:
    steps, rounds = steps_and_rounds(ctx)
    points = ctx.pick(16, 40, 60)
    probed = cache_workloads(ctx)
    workloads = {}
    for name in ctx.workloads:
        ctx.progress(f"compile: {name} first calls")
        workload = fresh_workload(name, ctx)
        if ctx.preset == "quick":   # a smoke run: only the two modes the break-even compares
            for table in (workload.variants, workload.blockers):
                for variant in [v for v in table if v not in PROBED]:
                    del table[variant]
        warmups = {variant: warmup_calls(workload, variant) for variant in workload.variants}
        phases, graphs = static_phases(workload)
        ctx.progress(f"compile: {name} steady steps")
        step_s = bench.run(workload, steps=steps, rounds=rounds).step_s
        entry = {"first_call_s": {v: w[0] for v, w in warmups.items()}, "warmup_s": warmups,
                 "step_s": step_s, "phases_s": phases, "graphs": graphs,
                 "break_even": _break_even(warmups, step_s, points), "cache": None}
        if name in probed:
            ctx.progress(f"compile: {name} cold and warm cache")
            entry["cache"] = cache_study(name)
        workloads[name] = entry
    settings = {"curve_steps": points, "curve_horizon_steps": CURVE_HORIZON,
                "horizon_steps": breakeven.HORIZON, "steps": steps,
                "rounds": rounds, "cache_workloads": probed,
                "in_process_cache": "off while measuring first calls", "notes": NOTES}
    return {"settings": settings, "workloads": workloads}


def cache_workloads(ctx: Context) -> list[str]:
    """Which workloads get the cold/warm cache study: none in a quick run (two fresh JAX
    processes cost seconds), mlp and lenet by default, every workload in a full run."""
    chosen = ctx.pick([], ["mlp", "lenet"], list(ctx.workloads))
    return [name for name in chosen if name in ctx.workloads]


def fresh_workload(name: str, ctx: Context):
    """Workload `name` built after every compiled kernel and program this process holds in
    memory is dropped, so its first calls compile as in a new process."""
    import graphnet

    graphnet.clear_kernel_cache()
    jax.clear_caches()
    return build(name, ctx)


def warmup_calls(workload, variant: str, least: int = 2, most: int = 6) -> list[float]:
    """Seconds of each call of `variant` from its first until steady state, each blocked on:
    at least `least` calls and, for a compiled variant, until a call builds no new graph."""
    handle = workload.compiled.get(variant)
    seconds: list[float] = []
    while len(seconds) < most:
        before = _graphs_built(handle)
        start = time.perf_counter()
        out = workload.variants[variant]()
        jax.block_until_ready([getattr(out, "_value", out)]
                              + list(workload.blockers[variant]()))
        seconds.append(time.perf_counter() - start)
        if len(seconds) >= least and _graphs_built(handle) == before:
            break
    return seconds


def static_phases(workload) -> tuple[dict | None, int]:
    """({trace, passes, jax_lowering, xla_compile} seconds summed over the graphs static has
    built, their number); (None, 0) for a workload without a static variant."""
    handle = workload.compiled.get("static")
    if handle is None:
        return None, 0
    explain = handle.explain()
    cost = bench.compile_cost(explain)
    phases = {key: cost[f"{key}_s"] for key in ("trace", "passes", "jax_lowering",
                                                  "xla_compile")}
    return phases, explain["graphs"]


def cache_study(name: str) -> dict:
    """Cold and warm first calls of static, dynamic and (where the workload has one) the
    hand-written jax.jit: `_cache_probe` run twice, each in a new process, on one new cache
    directory (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="graphnet-jax-cache-") as directory:
        cold = run_probe(name, directory)
        warm = run_probe(name, directory)
        files = [os.path.join(root, f) for root, _, fs in os.walk(directory) for f in fs]
        size = sum(os.path.getsize(f) for f in files)
    return {"cold_first_call_s": {v: s[0] for v, s in cold["warmup_s"].items()},
            "warm_first_call_s": {v: s[0] for v, s in warm["warmup_s"].items()},
            "cold_warmup_s": cold["warmup_s"], "warm_warmup_s": warm["warmup_s"],
            "cold_phases_s": cold["phases_s"], "warm_phases_s": warm["phases_s"],
            "cache_files": len(files), "cache_bytes": size}


def run_probe(name: str, cache_dir: str, timeout: float = 600) -> dict:
    """Run `python -m graphnet.runtime.compare._cache_probe NAME --cache-dir DIR`; its JSON."""
    command = [sys.executable, "-m", "graphnet.runtime.compare._cache_probe", name,
               "--cache-dir", cache_dir]
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=cache_dir)
    return run_json_probe(command, env, f"compile axis: the cache probe for {name}", timeout)


def _graphs_built(handle) -> int:
    # NOTE: counted on the CompiledFunction, not with explain(), which would build the plan
    # of each static graph (lazy otherwise) in the middle of the timed calls.
    return 0 if handle is None else len(handle.compiled.artifacts)


def _break_even(warmups: dict, step_s: dict, points: int) -> dict | None:
    if "static" not in warmups or "dynamic" not in warmups:
        return None
    args = (warmups["static"], step_s["static"], warmups["dynamic"], step_s["dynamic"])
    steps = breakeven.break_even(*args)
    sampled = breakeven.curve_steps(steps, max(len(warmups["static"]),
                                               len(warmups["dynamic"])), points, CURVE_HORIZON)
    return {"steps": steps, "curve_steps": sampled, **breakeven.curves(*args, sampled)}
