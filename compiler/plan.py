"""An `ExecutionPlan`: the graph cut into kernels, in order, with buffer lifetimes.

A plan is data. Each `Kernel` is a group of graph nodes that runs as one jitted function in
`mode="plan"`; values that cross kernel boundaries are *buffers* (they live in memory between
kernels), values inside a kernel never leave it. `str(plan)` prints one line per kernel, then
the buffers with the kernels that define and last read them, then the estimated peak.

A plan is what `mode="plan"` executes and what `explain()` and the plan dump print. Static
mode never needs one (it lowers the whole optimised graph into one jax.jit and XLA fuses),
so the runtime builds it only when it is read (`Artifact.plan`), from that same graph, by
`passes.run_plan_passes`:

    plan = build_plan(graph)          # one kernel per node (a grad kernel per backward())
    plan = fuse_kernels(plan)         # compiler/passes/fuse.py
    plan = plan_memory(plan)          # compiler/passes/memory.py
    print(plan)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .ir import Graph, Node, Value
from .lower import GradRegion, schedule

# NOTE: a kernel ending in a gradient node (opdef.gradient) is of kind GRAD_KIND.
GRAD_KIND = "grad"
KERNEL_KINDS = ("contraction", "elementwise", "reduction", "opaque", GRAD_KIND)


@dataclass(frozen=True, eq=False)
class Kernel:
    """Nodes evaluated together. A `grad` kernel holds the forward nodes it differentiates
    followed by the grad node itself (they run under one jax.vjp, see lower.GradRegion)."""

    name: str
    nodes: tuple             # graph nodes, in evaluation order
    inputs: tuple            # Values it reads that other kernels (or the caller) produce
    outputs: tuple           # Values it produces that later kernels or the graph outputs read
    kind: str                # one of KERNEL_KINDS
    est_flops: int
    est_bytes: int           # bytes of inputs read + outputs written

    @property
    def differentiates(self) -> bool:
        """True for a grad kernel: its last node is a gradient node."""
        return self.nodes[-1].opdef.gradient

    def region(self) -> GradRegion:
        """The GradRegion of a grad kernel (its last node is the grad node)."""
        assert self.differentiates, self.name
        # recompute=False: inside the kernel's own jitted function, exporting the forward
        # values to its local environment is always right; only `outputs` leave the kernel.
        return GradRegion(self.nodes[-1], list(self.nodes[:-1]), recompute=False)


@dataclass(frozen=True)
class Buffer:
    """A value that lives in memory between kernels: from the index of the kernel that defines
    it (-1: a graph input) to the index of the last kernel that reads it (len(kernels): a graph
    output, still alive when the plan ends)."""

    value: Value
    first: int
    last: int
    nbytes: int


@dataclass(frozen=True, eq=False)
class ExecutionPlan:
    """Kernels in execution order over `graph`, plus (after plan_memory) buffer lifetimes and
    the estimated peak. `graphnet.compile(fn, mode="plan")` runs it kernel by kernel;
    `compiled.explain()["per_graph"][0]["plan"]` is its text.

    >>> plan, stats = run_pipeline(graphnet.trace_graph(model, x)); print(plan)
    """

    graph: Graph
    kernels: dict            # name -> Kernel
    order: tuple             # kernel names, in execution order
    lifetimes: tuple = ()    # Buffers, filled by plan_memory
    est_peak_bytes: int | None = None

    def in_order(self) -> list:
        return [self.kernels[name] for name in self.order]

    def __str__(self) -> str:
        return plan_to_text(self)

    def __repr__(self) -> str:
        return f"<ExecutionPlan {self.graph.name}: {len(self.order)} kernels>"


# ---- cost estimates (rough, for reading plans; nothing is tuned on them) ------------------------
def value_bytes(v: Value) -> int:
    return math.prod(v.shape) * v.dtype.itemsize


def node_flops(node: Node) -> int:
    """Floating-point operations of one node: 2*M*N*K for contractions (a multiply and an add
    per term), one per output element for pointwise ops, one per input element for reductions."""
    from graphnet._ops import OPS

    if node.opdef.gradient:     # counted by its kernel: from the forward nodes it runs
        return 0
    out = sum(math.prod(v.shape) for v in node.outputs)
    values = node.input_values()
    kind = OPS[node.op].kind
    if kind == "contraction" and values:
        if node.op == "conv" and len(values) > 1:   # weight [C_out, C_in / groups, *window]
            return 2 * out * math.prod(values[1].shape[1:])
        depth = values[0].shape[-1] if values[0].shape else 1
        return 2 * out * depth
    if kind == "reduction":
        return sum(math.prod(v.shape) for v in values)
    return out


def node_label(node: Node) -> str:
    """A node's name in plans: its first output's name without the `[i]` suffix."""
    return node.outputs[0].name.split("[")[0] if node.outputs else node.op


def _group_kind(nodes: list) -> str:
    from graphnet._ops import OPS

    if nodes[-1].opdef.gradient:
        return GRAD_KIND
    kinds = {OPS[n.op].kind for n in nodes}
    for kind in ("opaque", "contraction", "reduction"):
        if kind in kinds:
            return kind
    return "elementwise"


def plan_from_groups(graph: Graph, groups: list, kinds: list | None = None) -> ExecutionPlan:
    """Make kernels k0, k1, ... from `groups` (lists of nodes, in execution order): work out
    each kernel's inputs and outputs and its cost estimates."""
    owner: dict = {}                 # Value -> index of the first kernel producing it
    for i, nodes in enumerate(groups):
        for n in nodes:
            for v in n.outputs:
                owner.setdefault(v, i)
    reads: list = []
    needed: set = {o.value for o in graph.outputs}
    for nodes in groups:
        inside = {v for n in nodes for v in n.outputs}
        outside = []
        for n in nodes:
            for v in n.input_values():
                if v not in inside and v not in outside:
                    outside.append(v)
        reads.append(outside)
        needed.update(outside)
    kernels = {}
    for i, nodes in enumerate(groups):
        outputs = [v for n in nodes for v in n.outputs if owner[v] == i and v in needed]
        flops = sum(node_flops(n) for n in nodes)
        if nodes[-1].opdef.gradient:   # NOTE: backward costs about twice the forward
            flops = 3 * sum(node_flops(n) for n in nodes[:-1])
        kind = kinds[i] if kinds else _group_kind(nodes)
        kernels[f"k{i}"] = Kernel(f"k{i}", tuple(nodes), tuple(reads[i]), tuple(outputs), kind,
                                  flops, sum(value_bytes(v) for v in reads[i] + outputs))
    return ExecutionPlan(graph, kernels, tuple(kernels))


def build_plan(graph: Graph) -> ExecutionPlan:
    """The unfused plan: one kernel per node in lowering order, except that each grad node
    and the forward nodes it differentiates form one grad kernel (lower.schedule)."""
    groups = []
    for item in schedule(graph):
        if isinstance(item, Node):
            groups.append([item])
        else:
            groups.append(list(item.forward) + [item.grad])
    return plan_from_groups(graph, groups)


def with_memory(plan: ExecutionPlan, lifetimes: tuple, peak: int) -> ExecutionPlan:
    return replace(plan, lifetimes=tuple(lifetimes), est_peak_bytes=peak)


class PlanError(AssertionError):
    """The plan is malformed: a kernel reads a value no earlier kernel produced."""


def verify_plan(plan: ExecutionPlan) -> ExecutionPlan:
    """Check every graph node is in a kernel, every kernel input is a graph input or an
    earlier kernel's output, and every graph output is produced."""
    covered = {n for k in plan.kernels.values() for n in k.nodes}
    missing_nodes = [node_label(n) for n in plan.graph.nodes if n not in covered]
    if missing_nodes:
        raise PlanError(f"nodes {', '.join(missing_nodes)} are in no kernel")
    available = set(plan.graph.inputs)
    for k in plan.in_order():
        missing = [f"%{v.name}" for v in k.inputs if v not in available]
        if missing:
            raise PlanError(f"kernel {k.name} reads {', '.join(missing)} before any kernel "
                            f"produces it")
        available.update(k.outputs)
    for out in plan.graph.outputs:
        if out.value not in available:
            raise PlanError(f"output {out.role}:{out.target} (%{out.value.name}) is never "
                            f"produced by a kernel")
    return plan


def _values(values) -> str:
    return ", ".join(f"%{v.name}" for v in values)


def plan_to_text(plan: ExecutionPlan) -> str:
    lines = [f"plan {plan.graph.name}: {len(plan.order)} kernels"]
    for k in plan.in_order():
        nodes = ", ".join(node_label(n) for n in k.nodes)
        lines.append(f"  {k.name} {k.kind}[{nodes}]({_values(k.inputs)}) -> "
                     f"({_values(k.outputs)})  flops={k.est_flops} bytes={k.est_bytes}")
    if plan.est_peak_bytes is None:
        lines.append("  memory: not planned (plan_memory did not run)")
        return "\n".join(lines)
    lines.append("  buffers (defined .. last read, bytes):")
    end = len(plan.order) - 1

    def at(i):
        return "in" if i < 0 else "end" if i > end else plan.order[i]

    for b in plan.lifetimes:
        lines.append(f"    %{b.value.name}: {at(b.first)} .. {at(b.last)}, {b.nbytes}")
    lines.append(f"  est peak bytes: {plan.est_peak_bytes}")
    return "\n".join(lines)
