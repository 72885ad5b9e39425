"""The pass pipeline: one readable list of named passes.

Graph passes (`Graph -> Graph`) rewrite the graph and keep every output's value. Then the
graph becomes an ExecutionPlan (one kernel per node; compiler/plan.py) and plan passes
(`ExecutionPlan -> ExecutionPlan`) group it into kernels and plan its memory. Any pass can be
chosen or switched off by name: `graphnet.compile(fn, disable=["constant_folding"])`,
`graphnet.compile(fn, passes=["dead_code_elimination", "fuse_kernels"])`."""

from __future__ import annotations

from ..plan import build_plan, verify_plan
from ..verify import verify
from ._report import take
from .algebraic import algebraic_simplification
from .constant_folding import constant_folding
from .cse import common_subexpression_elimination
from .dce import dead_code_elimination
from .eval_mode import eval_mode_rewrites
from .fuse import fuse_kernels
from .memory import plan_memory
from .shape_propagation import shape_propagation

PIPELINE = [
    # Graph -> Graph
    shape_propagation,                  # check every node's types against its kernel
    constant_folding,                   # small compile-time-known results -> constant
    algebraic_simplification,           # x*1, x+0, reshape(reshape(x)), cast to own dtype ...
    common_subexpression_elimination,   # one node per (op, inputs, attrs)
    eval_mode_rewrites,                 # BatchNorm (eval) folded into the conv/linear before
    dead_code_elimination,              # drop what no output needs
    # ExecutionPlan -> ExecutionPlan
    fuse_kernels,                       # group nodes into kernels by fusion kind
    plan_memory,                        # buffer lifetimes and estimated peak bytes
]
PLAN_PASSES = (fuse_kernels, plan_memory)
BY_NAME = {p.__name__: p for p in PIPELINE}


def _select(passes, disable) -> list:
    names = list(disable) + [p for p in (passes or ()) if isinstance(p, str)]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown pass(es) {unknown}; passes are {list(BY_NAME)}")
    chosen = PIPELINE if passes is None else [BY_NAME[p] if isinstance(p, str) else p
                                              for p in passes]
    chosen = [p for p in chosen if p.__name__ not in disable]
    on_plan = [p in PLAN_PASSES for p in chosen]
    if on_plan != sorted(on_plan):
        raise ValueError(f"graph passes must come before plan passes "
                         f"({', '.join(p.__name__ for p in PLAN_PASSES)}); got "
                         f"{[p.__name__ for p in chosen]}")
    return chosen


def run_pipeline(traced, passes=None, disable=(), debug: bool = False):
    """Run the selected passes over `traced.graph` (a TraceResult or a Graph); returns
    (ExecutionPlan, [one stat line per pass]). With debug, the IR is verified after each pass."""
    graph = getattr(traced, "graph", traced)
    plan, stats = None, []
    take()
    for pass_fn in _select(passes, disable):
        if pass_fn in PLAN_PASSES:
            plan = build_plan(graph) if plan is None else plan
            plan = pass_fn(plan)
            stats.append(f"{pass_fn.__name__}: {take() or 'done'}")
            if debug:
                verify_plan(plan)
            continue
        before = len(graph.nodes)
        graph = pass_fn(graph)
        stats.append(f"{pass_fn.__name__}: {take() or 'done'} ({before} -> "
                     f"{len(graph.nodes)} nodes)")
        if debug:
            verify(graph)
    plan = build_plan(graph) if plan is None else plan
    if debug:
        verify_plan(plan)
    return plan, stats
