"""Memory planning: when each buffer is live, and the estimated peak.

A plan pass: `mode="plan"` frees each buffer after its last reader, and `explain()` and the
plan dump print the lifetimes and the peak. Static mode does not run it; XLA plans the
memory of the whole program itself."""

from __future__ import annotations

from ..plan import Buffer, ExecutionPlan, value_bytes, with_memory
from ._report import report


def plan_memory(plan: ExecutionPlan) -> ExecutionPlan:
    """Guarantee: the plan gets one Buffer per value that crosses a kernel boundary (graph
    inputs that a kernel reads, kernel outputs, graph outputs) with the index of the kernel
    that defines it (-1: a graph input) and of the last kernel that reads it (len(kernels):
    a graph output, alive after the plan), and `est_peak_bytes`, the largest total size of
    the buffers live while one kernel runs. Values inside a kernel are not counted (that is
    what fusion saves), except in a grad kernel: its forward values are what `jax.vjp` keeps
    for the backward pass, so they are counted while it runs (an upper bound: XLA may
    recompute or drop some). The kernels themselves do not change."""
    order = plan.in_order()
    end = len(order)
    first, last = {}, {}
    for v in plan.graph.inputs:
        first[v] = -1
    for i, k in enumerate(order):
        for v in k.inputs:
            last[v] = i
        for v in k.outputs:
            first.setdefault(v, i)
            last.setdefault(v, i)       # written even if only the graph output reads it
    for out in plan.graph.outputs:
        last[out.value] = end
    buffers = [Buffer(v, first[v], last[v], value_bytes(v)) for v in first if v in last]
    kept = [sum(value_bytes(v) for n in k.nodes[:-1] for v in n.outputs if v not in first)
            if k.differentiates else 0 for k in order]
    peak, at = 0, -1
    for i in range(end):
        live = kept[i] + sum(b.nbytes for b in buffers if b.first <= i <= b.last)
        if live > peak:
            peak, at = live, i
    where = f" (at {plan.order[at]})" if at >= 0 else ""
    report(f"{len(buffers)} buffers, est peak {peak} bytes{where}")
    return with_memory(plan, buffers, peak)
