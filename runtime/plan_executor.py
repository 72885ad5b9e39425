"""`mode="plan"`: run an ExecutionPlan kernel by kernel, each kernel its own jitted function.

Same graph, same op kernels as `mode="static"` (one jax.jit of the whole graph), but XLA sees
one kernel at a time, and every buffer between kernels is materialised. Comparing the two
shows what whole-program compilation buys over our own fusion."""

from __future__ import annotations

import jax
from compiler.lower import straight_line
from compiler.plan import ExecutionPlan, Kernel

from .artifact import Artifact


def kernel_function(kernel: Kernel, graph_name: str = "graph"):
    """`fn(*input_arrays) -> tuple(output_arrays)` evaluating the kernel's nodes, ready to jit.
    A grad kernel runs its forward nodes and the grad node under one jax.vjp (GradRegion),
    so the forward it differentiates is inside its jitted function, as in lower.py."""
    name = f"{graph_name}_{kernel.name}"
    if kernel.kind != "grad":
        return straight_line(kernel.nodes, kernel.inputs, kernel.outputs, name)
    region = kernel.region()

    def run(*arrays):
        env = dict(zip(kernel.inputs, arrays, strict=True))
        region.run(env)
        return tuple(env[v] for v in kernel.outputs)

    run.__name__ = name
    return run


def plan_runner(plan: ExecutionPlan):
    """`run(*input_arrays) -> tuple(output_arrays)` in graph input/output order, calling one
    jitted function per kernel. With planned lifetimes, a buffer is dropped after its last
    reader, so its memory can be reused by later kernels."""
    graph = plan.graph
    steps = []
    frees: dict = {}
    for b in plan.lifetimes:
        if b.last < len(plan.order):
            frees.setdefault(max(b.last, 0), []).append(b.value)
    for i, kernel in enumerate(plan.in_order()):
        steps.append((kernel, jax.jit(kernel_function(kernel, graph.name)), frees.get(i, ())))
    inputs, outputs = list(graph.inputs), [o.value for o in graph.outputs]

    def run(*arrays):
        env = dict(zip(inputs, arrays, strict=True))
        for kernel, fn, dead in steps:
            outs = fn(*[env[v] for v in kernel.inputs])
            env.update(zip(kernel.outputs, outs, strict=True))
            for v in dead:
                env.pop(v, None)
        return tuple(env[v] for v in outputs)

    run.__name__ = graph.name
    return run


class PlanArtifact(Artifact):
    """An Artifact whose program is the plan runner. NOTE: Artifact jits its program whole;
    here that would hand XLA the entire graph again and hide the kernels, so the jitted
    entry points are replaced by the runner itself (each kernel is jitted inside it)."""

    def __init__(self, traced, plan: ExecutionPlan, pass_stats=None, trace_seconds=0.0,
                 pass_seconds=0.0):
        super().__init__(traced, plan_runner(plan), False, pass_stats, trace_seconds,
                         pass_seconds, hoist=False)
        self.plan = plan
        self.jitted = self.jitted_plain = self.run_fn
