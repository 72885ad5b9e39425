"""The study behind `graphnet compare`: which axes run on which workloads, a live progress
display, and the results dict (docs/compare.md) that the report renders.

Each axis is a `measure(ctx) -> dict` in its own module of this package, imported only when
it runs. The progress display knows roughly how long each axis takes per preset (`COST`,
seconds on 2 CPU cores) and advances by that much when an axis finishes, so the time left
it shows is an estimate that corrects itself as the run goes."""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import sys
import time

from ._axis import Context

WORKLOADS = {
    "quick": ["tiny", "mlp"],
    "default": ["mlp", "lenet", "tiny", "lstm-lm", "transformer"],
    "full": ["mlp", "lenet", "tiny", "lstm-lm", "lstm-lm-cells", "transformer", "convnet",
             "resnet18-train"],
}
# axis -> (module, function); numerics is measured by the step-time run
AXES = {
    "step_time": ("timing", "measure_step_time"),
    "compile": ("compile_cost", "measure"),
    "scaling": ("timing", "measure_scaling"),
    "memory": ("memory", "measure"),
    "shapes": ("shapes", "measure"),
    "flexibility": ("flexibility", "measure"),
    "data_parallel": ("data_parallel", "measure"),
}
# data_parallel starts a process per device count: in --full, or asked for with --axes
DEFAULT_AXES = {"quick": [a for a in AXES if a != "data_parallel"],
                "default": [a for a in AXES if a != "data_parallel"],
                "full": list(AXES)}
# rough seconds per axis per workload (shapes and flexibility: per run), for the time left
COST = {"quick": {"step_time": 4, "compile": 4, "scaling": 10, "memory": 4, "shapes": 8,
                  "flexibility": 6, "data_parallel": 8},
        "default": {"step_time": 10, "compile": 10, "scaling": 45, "memory": 6, "shapes": 25,
                    "flexibility": 6, "data_parallel": 15},
        "full": {"step_time": 30, "compile": 40, "scaling": 150, "memory": 12, "shapes": 60,
                 "flexibility": 6, "data_parallel": 30}}
PER_WORKLOAD = {"step_time", "compile", "memory"}


def machine() -> dict:
    import jax
    import jaxlib

    import graphnet

    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    devices = [f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip()
               for d in jax.devices()]
    backend = jax.default_backend()
    cpus = os.cpu_count() or 0
    summary = (f"{platform.machine()}, {cpus} cpus, {backend}, jax {jax.__version__}, "
               f"graphnet {graphnet.__version__}"
               + (f", torch {torch_version}" if torch_version else ""))
    return {"summary": summary, "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpus": cpus,
            "python": sys.version.split()[0], "jax": jax.__version__,
            "jaxlib": jaxlib.__version__, "graphnet": graphnet.__version__,
            "torch": torch_version, "backend": backend, "devices": devices}


def _estimate(axis: str, ctx: Context) -> float:
    cost = COST[ctx.preset][axis]
    return cost * len(ctx.workloads) if axis in PER_WORKLOAD else cost


def run_study(ctx: Context, axes: list | None = None, console=None) -> dict:
    """Measure `axes` (default: all) on `ctx.workloads`; return the results dict."""
    from ..workloads import WORKLOADS as KNOWN

    axes = list(axes or DEFAULT_AXES[ctx.preset])
    unknown = [a for a in axes if a not in AXES]
    if unknown:
        raise ValueError(f"unknown axes {unknown}; choose from {list(AXES)}")
    missing = [w for w in ctx.workloads if w not in KNOWN]
    if missing:
        raise ValueError(f"unknown workload(s) {missing}; choose from {sorted(KNOWN)}")
    torch_version = machine()["torch"]
    ctx.torch = ctx.torch and torch_version is not None
    results = {"schema": "graphnet-compare/1",
               "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
                   timespec="seconds"),
               "machine": machine(),
               "settings": {"preset": ctx.preset, "workloads": list(ctx.workloads),
                            "axes": axes, "torch": ctx.torch,
                            "torch_compile": ctx.torch_compile, "seed": ctx.seed},
               "workloads": {}, "axes": {}}
    with _Progress(console, sum(_estimate(a, ctx) for a in axes)) as progress:
        for axis in axes:
            ctx.progress = progress.label
            started = time.perf_counter()
            module, function = AXES[axis]
            measure = getattr(importlib.import_module(f"{__package__}.{module}"), function)
            if axis == "step_time":
                results["axes"]["step_time"], results["axes"]["numerics"] = measure(
                    ctx, results["workloads"])
            else:
                results["axes"][axis] = measure(ctx)
            results["axes"][axis]["seconds"] = time.perf_counter() - started
            progress.advance(_estimate(axis, ctx))
    return results


class _Progress:
    """rich's live progress bar: the current step's label, elapsed and estimated time left.
    Without a terminal (CI, tests) it prints nothing."""

    def __init__(self, console, total: float):
        self.console, self.total, self.bar = console, total, None

    def __enter__(self):
        if self.console is not None:
            from rich.progress import (BarColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("{task.description:<40}"), BarColumn(),
                                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                                console=self.console, transient=False)
            self.bar.__enter__()
            self.task = self.bar.add_task("starting", total=self.total)
        return self

    def label(self, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=text)

    def advance(self, amount: float) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, amount)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.task, completed=self.total, description="done")
            self.bar.__exit__(*exc)
        return False
