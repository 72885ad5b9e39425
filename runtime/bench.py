"""The benchmark harness: variants timed interleaved in one process, ratios reported.

Timing method: each variant runs once (first call: trace + compile), then `rounds` rounds;
in each round every variant runs `steps` steps back to back and is blocked on at the end.
Round order rotates so no variant always runs right after another. The per-step time of a
variant is the median over rounds; ratios compare medians from the same run.

`python -m graphnet.runtime.bench mlp lenet` times what checked programs cost (compiler/checks.py):
each workload's static step against the same step compiled with `checks=False`."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import jax


@dataclass
class Result:
    workload: str
    description: str
    first_call_s: dict = field(default_factory=dict)
    step_s: dict = field(default_factory=dict)        # median seconds per step
    spread: dict = field(default_factory=dict)        # (min, max) seconds per step over rounds
    machine: str = ""
    extra_ratios: list = field(default_factory=list)  # (label, a, b) the workload asks for
    compile_cost: dict = field(default_factory=dict)  # variant -> compile_cost(explain)
    samples: dict = field(default_factory=dict)       # variant -> seconds per step, per round

    def ratio(self, a: str, b: str) -> float | None:
        if a in self.step_s and b in self.step_s:
            return self.step_s[a] / self.step_s[b]
        return None

    def to_dict(self) -> dict:
        return {"workload": self.workload, "description": self.description,
                "machine": self.machine, "first_call_s": self.first_call_s,
                "step_s": self.step_s, "spread": self.spread, "compile_cost": self.compile_cost,
                "ratios": {f"{a}/{b}": self.ratio(a, b) for _, a, b in self.ratio_labels()}}

    def ratio_labels(self) -> list:
        """(label, a, b) for every ratio reported: the standard three, then the workload's."""
        return [("static / hand-written jax.jit", "static", "jax"),
                ("dynamic / PyTorch eager", "dynamic", "torch"),
                ("dynamic / static", "dynamic", "static")] + list(self.extra_ratios)


def _block(workload, name, out):
    jax.block_until_ready([getattr(out, "_value", out)] + list(workload.blockers[name]()))


def machine() -> str:
    import os
    import platform

    devices = ", ".join(sorted({d.platform for d in jax.devices()}))
    return f"{platform.machine()}, {os.cpu_count()} cpus, jax {jax.__version__} on {devices}"


def run(workload, steps: int = 20, rounds: int = 7) -> Result:
    result = Result(workload.name, workload.description, machine=machine(),
                    extra_ratios=list(workload.ratios))
    names = list(workload.variants)
    for name in names:
        start = time.perf_counter()
        out = workload.variants[name]()
        _block(workload, name, out)
        result.first_call_s[name] = time.perf_counter() - start
        for _ in range(2):  # warm up past any one-shot graphs (optimizer state creation)
            _block(workload, name, workload.variants[name]())
        if name in workload.compiled:
            result.compile_cost[name] = compile_cost(workload.compiled[name].explain())
    samples = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            step = workload.variants[name]
            start = time.perf_counter()
            for _ in range(steps):
                out = step()
            _block(workload, name, out)
            samples[name].append((time.perf_counter() - start) / steps)
    result.samples = samples
    for name, values in samples.items():
        result.step_s[name] = statistics.median(values)
        result.spread[name] = (min(values), max(values))
    return result


def compile_cost(explain: dict) -> dict:
    """Seconds spent tracing, in graphnet's passes, in JAX's lowering and in XLA's compile,
    summed over the graphs a compiled function built (a training step builds two: the first
    step creates the optimizer state), and graphnet's share: (trace + passes) / (lowering +
    XLA compile). When the programs came from JAX's persistent cache (no XLA compile was
    recorded) the share is taken against the first run instead, and `basis` says so."""
    graphs = explain["per_graph"]

    def total(key):
        return sum(g.get(key, 0.0) for g in graphs)

    cost = {"trace_s": total("trace_s"), "passes_s": total("passes_s"),
            "jax_lowering_s": total("jax_lowering_s"), "xla_compile_s": total("xla_compile_s"),
            "first_run_s": total("first_run_s (XLA compile + run)")}
    if cost["xla_compile_s"] > 0:
        cost["basis"] = "JAX lowering + XLA compile"
        cost["xla_s"] = cost["jax_lowering_s"] + cost["xla_compile_s"]
    else:
        cost["basis"] = "first run (programs from the compilation cache)"
        cost["xla_s"] = cost["first_run_s"]
    cost["fraction"] = (cost["trace_s"] + cost["passes_s"]) / cost["xla_s"]
    return cost


def render(result: Result, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=132)
    table = Table(title=f"{result.description}\n{result.machine}", title_justify="left")
    for col in ("variant", "first call (trace+compile)", "median step", "min-max step",
                "vs jax.jit", "vs torch eager"):
        table.add_column(col, justify="right" if col != "variant" else "left")
    labels = {"jax": "hand-written jax.jit", "static": "graphnet static",
              "static-nochecks": "graphnet static, checks=False",
              "dynamic": "graphnet dynamic", "torch": "PyTorch eager"}
    for name, seconds in result.step_s.items():
        lo, hi = result.spread[name]
        vs_jax, vs_torch = result.ratio(name, "jax"), result.ratio(name, "torch")
        table.add_row(labels.get(name, name), f"{result.first_call_s[name] * 1e3:.1f} ms",
                      _fmt(seconds), f"{_fmt(lo)}-{_fmt(hi)}",
                      f"{vs_jax:.2f}x" if vs_jax else "-", f"{vs_torch:.2f}x" if vs_torch else "-")
    console.print(table)
    for name, cost in result.compile_cost.items():
        console.print(f"  {labels.get(name, name)}: trace {cost['trace_s'] * 1e3:.0f} ms + passes "
                      f"{cost['passes_s'] * 1e3:.0f} ms = {cost['fraction']:.1%} of "
                      f"{cost['basis']} ({cost['xla_s'] * 1e3:.0f} ms)")


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def add_nochecks_variant(workload) -> None:
    """Add variant `static-nochecks` (the `static` step's function compiled again with
    `checks=False`: same model, optimizer and data) and the ratio `static / static-nochecks`."""
    import graphnet

    handle = workload.compiled.get("static")
    if handle is None:
        raise ValueError(f"workload {workload.name} has no compiled static variant")
    c = handle.compiled
    sibling = graphnet.compile(c.fn, mode=c.mode, donate=c.donate, cache_size=c.cache_size,
                               passes=c.passes, disable=c.disable, hoist=c.hoist,
                               name=c.name, checks=False)
    static = workload.variants["static"]

    # NOTE: the static variant calls its handle with arguments only the workload holds, so
    # the sibling runs by taking the handle's place for one call (an attribute swap: ~0.1 us).
    def nochecks():
        saved, handle._call = handle._call, sibling._call
        try:
            return static()
        finally:
            handle._call = saved

    workload.variants["static-nochecks"] = nochecks
    workload.blockers["static-nochecks"] = workload.blockers["static"]
    workload.compiled["static-nochecks"] = sibling
    workload.ratios.append(("static / static-nochecks", "static", "static-nochecks"))


def checks_cost(names, steps: int = 20, rounds: int = 7) -> list:
    """Static steps with and without checks, interleaved, for each workload in `names`."""
    from .workloads import WORKLOADS

    results = []
    for name in names:
        workload = WORKLOADS[name](torch=False)
        add_nochecks_variant(workload)
        for table in (workload.variants, workload.blockers):
            for variant in [v for v in table if v not in ("static", "static-nochecks")]:
                del table[variant]
        results.append(run(workload, steps=steps, rounds=rounds))
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="what checked programs cost: static steps "
                                                 "with and without checks, interleaved")
    parser.add_argument("models", nargs="*", default=["mlp", "lenet"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    for result in checks_cost(options.models, options.steps, options.rounds):
        render(result)
        print(f"  static / static-nochecks: {result.ratio('static', 'static-nochecks'):.3f}x")
