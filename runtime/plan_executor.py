"""`mode="plan"`: run an ExecutionPlan kernel by kernel, each kernel its own jitted function.

Same graph, same op kernels as `mode="static"` (one jax.jit of the whole graph), but XLA sees
one kernel at a time, and every buffer between kernels is materialised. Comparing the two
shows what whole-program compilation buys over our own fusion. Value checks (compiler/checks.py)
of the inputs run on the host first (`run.precheck`); the rows of checks on computed values
come back from each kernel that holds one and leave the runner as one array, in graph order,
like the rows of the static program."""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np
from graphnet import _xla as xla
from graphnet.compiler.checks import (
    HostChecks, RowCollector, guard_outputs, sites_among, split_sites, stack_rows,
)
from graphnet.compiler.lower import straight_line
from graphnet.compiler.vmap_checks import anchor
from graphnet.compiler.plan import ExecutionPlan, Kernel

from .artifact import Artifact


def kernel_function(kernel: Kernel, graph_name: str = "graph", checks=()):
    """`fn(*input_arrays) -> tuple(output_arrays)` evaluating the kernel's nodes, ready to jit.
    A grad kernel runs its forward nodes and the grad node under one jax.vjp (GradRegion),
    so the forward it differentiates is inside its jitted function, as in lower.py. When
    the kernel holds some of the program check sites `checks`, their rows (`fn.checks`)
    come last."""
    name = f"{graph_name}_{kernel.name}"
    sites = sites_among(kernel.nodes, checks)
    if kernel.kind != "grad":
        return straight_line(kernel.nodes, kernel.inputs, kernel.outputs, name,
                             sites if sites else None)
    region = kernel.region()

    def run(*arrays):
        env = dict(zip(kernel.inputs, arrays, strict=True))
        region.run(env)
        outs = tuple(env[v] for v in kernel.outputs)
        if not sites:
            return outs
        rows = RowCollector(sites)
        for node in region.forward:   # from the values the region exported, as lower.py does
            rows.visit(node, env)
        return outs + (rows.flags(),)

    run.__name__ = name
    run.checks = tuple(sites)
    return run


def plan_runner(plan: ExecutionPlan, checks: bool = False):
    """`run(*input_arrays) -> tuple(output_arrays)` in graph input/output order, calling one
    jitted function per kernel. With planned lifetimes, a buffer is dropped after its last
    reader, so its memory can be reused by later kernels. With `checks`, value checks come
    along as in `lower(graph, checks=True)`: `run.precheck`, and rows after the outputs."""
    graph = plan.graph
    steps = []
    frees: dict = {}
    for b in plan.lifetimes:
        if b.last < len(plan.order):
            frees.setdefault(max(b.last, 0), []).append(b.value)
    host, program_sites = split_sites(graph) if checks else ([], [])
    sites = []
    for i, kernel in enumerate(plan.in_order()):
        fn = kernel_function(kernel, graph.name, program_sites)
        sites.extend(fn.checks)
        has_conv = any(node.op in xla.CONV_OPS for node in kernel.nodes)
        # NOTE: not a `program=True` jit: a plan's forward joins the dynamic tape, where JAX
        # traces its kernels again under vjp and refuses compile options on a nested jit
        steps.append((kernel, xla.jit(fn, has_conv), frees.get(i, ()), bool(fn.checks)))
    inputs, outputs = list(graph.inputs), [o.value for o in graph.outputs]
    finish = _checked_finish(graph, sites)

    def run(*arrays):
        env = dict(zip(inputs, arrays, strict=True))
        rows = []
        for kernel, fn, dead, checked in steps:
            outs = fn(*[env[v] for v in kernel.inputs])
            if checked:
                *outs, kernel_rows = outs
                rows.append(kernel_rows)
            env.update(zip(kernel.outputs, outs, strict=True))
            for v in dead:
                env.pop(v, None)
        outs = tuple(env[v] for v in outputs)
        return finish(arrays, outs, rows) if sites else outs

    run.__name__ = graph.name
    run.checks = tuple(program_sites)
    run.precheck = HostChecks(graph, host) if host else None
    return run


def _checked_finish(graph, sites: list):
    """One jitted step after the kernels: the rows in graph order, and state outputs kept at
    their input values when a check failed (checks.guard_outputs)."""
    position = {n: i for i, n in enumerate(graph.nodes)}
    order = np.asarray(sorted(range(len(sites)), key=lambda i: position[anchor(sites[i])]),
                       int)

    @xla.jit
    def finish(arrays, outs, rows):
        flags = jnp.concatenate(rows)[order] if rows else stack_rows([])
        inputs = dict(zip(graph.inputs, arrays, strict=True))
        return guard_outputs(graph, inputs, outs, flags) + (flags,)

    return finish


class PlanArtifact(Artifact):
    """An Artifact whose program is the plan runner, so its plan is built at once by
    `make_plan(graph) -> (plan, stat lines)` (a static Artifact builds it only when read).
    NOTE: Artifact jits its program whole; here that would hand XLA the entire graph again
    and hide the kernels, so the jitted entry points are replaced by the runner itself (each
    kernel is jitted inside it)."""

    refinable = False

    def __init__(self, traced, make_plan, pass_stats=None, trace_seconds=0.0,
                 pass_seconds=0.0, checks: bool = False, reuse: PlanArtifact | None = None):
        start = time.perf_counter()
        if reuse is not None and reuse.jitted is not None and reuse.graph == traced.graph:
            # a retrace that recorded the same graph: its plan and jitted kernels (Artifact)
            plan, plan_stats, runner = reuse._plan, reuse.plan_stats, reuse.run_fn
        else:
            plan, plan_stats = make_plan(traced.graph)
            runner, reuse = plan_runner(plan, checks), None
        plan_seconds = time.perf_counter() - start
        super().__init__(traced, runner, False, pass_stats, trace_seconds, pass_seconds,
                         hoist=False, make_plan=make_plan, reuse=reuse)
        self._plan, self.plan_stats, self.plan_seconds = plan, plan_stats, plan_seconds
        self.jitted = self.jitted_plain = self.run_fn
