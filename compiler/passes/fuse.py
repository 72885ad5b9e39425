"""Kernel fusion: group the plan's nodes into kernels by the op table's fusion kinds.

A plan pass: it shapes the plan that `mode="plan"` runs kernel by kernel and `explain()`
prints. Static mode does not run it; XLA fuses the whole program itself."""

from __future__ import annotations

from ..plan import ExecutionPlan, plan_from_groups
from ._report import report

# What a kernel of each kind may absorb from the kernels that feed it:
#   elementwise  <- elementwise producers (a chain or tree) and at most one contraction
#                   (the contraction's epilogue)
#   reduction    <- elementwise producers (its prologue); nothing fuses after a reduction
#   contraction, opaque, grad  <- nothing: a contraction starts a kernel, opaque ops and
#                   grad kernels stay alone
ABSORBS = {"elementwise": ("elementwise", "contraction"), "reduction": ("elementwise",)}


def fuse_kernels(plan: ExecutionPlan) -> ExecutionPlan:
    """Guarantee: every node stays in exactly the kernel(s) it was in or in one that absorbed
    them, so the plan computes the same values; a kernel absorbs a producer kernel only when
    all of the producer's outputs are read by that kernel alone (so nothing is exported twice
    and the kernel order stays a valid topological order). Kinds as in ABSORBS."""
    kernels = plan.in_order()
    readers: dict = {}
    for k in kernels:
        for v in k.inputs:
            readers.setdefault(v, set()).add(k.name)
    graph_outputs = {o.value for o in plan.graph.outputs}
    owner = {v: k.name for k in kernels for v in k.outputs}
    groups: dict = {}           # kernel name -> [nodes, kind], for kernels still standing
    merged_into: dict = {}
    for k in kernels:
        nodes, kind = list(k.nodes), k.kind
        absorbed_contraction = kind == "contraction"
        for producer_name in _producers(k, owner, merged_into):
            producer = plan.kernels[producer_name]
            p_nodes, p_kind = groups[producer_name]
            if p_kind not in ABSORBS.get(kind, ()):
                continue
            if any(readers.get(v) != {k.name} or v in graph_outputs for v in producer.outputs):
                continue
            if p_kind == "contraction":
                if absorbed_contraction:
                    continue
                absorbed_contraction = True
            nodes = p_nodes + nodes
            del groups[producer_name]
            merged_into[producer_name] = k.name
        if kind == "elementwise" and absorbed_contraction:
            kind = "contraction"
        groups[k.name] = [nodes, kind]
    fused = plan_from_groups(plan.graph, [g[0] for g in groups.values()],
                             [g[1] for g in groups.values()])
    report(f"{sum(len(k.nodes) for k in kernels)} nodes in {len(kernels)} kernels -> "
           f"{len(fused.order)} kernels")
    return fused


def _producers(kernel, owner: dict, merged_into: dict) -> list:
    """Names of the standing kernels that produce `kernel`'s inputs, in input order."""
    names = []
    for v in kernel.inputs:
        name = owner.get(v)
        while name in merged_into:
            name = merged_into[name]
        if name is not None and name != kernel.name and name not in names:
            names.append(name)
    return names
