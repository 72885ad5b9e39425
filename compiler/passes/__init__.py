"""The pass pipeline: one readable list of named passes, in two parts.

Graph passes (`Graph -> Graph`) rewrite the graph and keep every output's value: they change
what static mode lowers and XLA compiles. Plan passes (`ExecutionPlan -> ExecutionPlan`) turn
the optimised graph into an ExecutionPlan (one kernel per node, compiler/plan.py), group it
into kernels and plan its memory: that plan is what `mode="plan"` executes and what
`explain()` and the plan dump print. Static mode leaves fusion to XLA, so a static compile
runs only the graph passes; the runtime builds the plan when something reads it.

Any pass can be chosen or switched off by name: `graphnet.compile(fn,
disable=["constant_folding"])`, `graphnet.compile(fn, passes=["dead_code_elimination",
"fuse_kernels"])`."""

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

GRAPH_PASSES = (   # Graph -> Graph: what static mode runs
    shape_propagation,                  # check every node's types against its kernel
    constant_folding,                   # small compile-time-known results -> constant
    algebraic_simplification,           # x*1, x+0, reshape(reshape(x)), cast to own dtype ...
    common_subexpression_elimination,   # one node per (op, inputs, attrs)
    eval_mode_rewrites,                 # BatchNorm (eval) folded into the conv/linear before
    dead_code_elimination,              # drop what no output needs
)
PLAN_PASSES = (    # ExecutionPlan -> ExecutionPlan: the plan mode="plan" runs, explain() prints
    fuse_kernels,                       # group nodes into kernels by fusion kind
    plan_memory,                        # buffer lifetimes and estimated peak bytes
)
PIPELINE = [*GRAPH_PASSES, *PLAN_PASSES]
BY_NAME = {p.__name__: p for p in PIPELINE}


def select(passes=None, disable=()) -> tuple[list, list]:
    """(graph passes, plan passes) chosen by `passes` (names or functions; None: all) minus
    `disable`. Raises ValueError for an unknown name or a graph pass after a plan pass."""
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
    return ([p for p, plan in zip(chosen, on_plan) if not plan],
            [p for p, plan in zip(chosen, on_plan) if plan])


def run_graph_passes(traced, passes=None, disable=(), debug: bool = False):
    """Run the selected graph passes over `traced.graph` (a TraceResult or a Graph); returns
    (optimised Graph, [one stat line per pass]). With debug, verify(graph) after each pass."""
    graph = getattr(traced, "graph", traced)
    stats = []
    take()
    for pass_fn in select(passes, disable)[0]:
        before = len(graph.nodes)
        graph = pass_fn(graph)
        stats.append(f"{pass_fn.__name__}: {take() or 'done'} ({before} -> "
                     f"{len(graph.nodes)} nodes)")
        if debug:
            verify(graph)
    return graph, stats


def run_plan_passes(graph, passes=None, disable=(), debug: bool = False):
    """The ExecutionPlan of an (optimised) graph: one kernel per node, then the selected plan
    passes; returns (plan, [one stat line per plan pass]). With debug, verify_plan after each."""
    plan, stats = build_plan(graph), []
    take()
    for pass_fn in select(passes, disable)[1]:
        plan = pass_fn(plan)
        stats.append(f"{pass_fn.__name__}: {take() or 'done'}")
        if debug:
            verify_plan(plan)
    if debug:
        verify_plan(plan)
    return plan, stats


def run_pipeline(traced, passes=None, disable=(), debug: bool = False):
    """Graph passes, then the plan: (ExecutionPlan, stat lines of both), for reading a plan
    in tests and notebooks. `graphnet.compile` runs the two halves separately."""
    graph, stats = run_graph_passes(traced, passes, disable, debug)
    plan, plan_stats = run_plan_passes(graph, passes, disable, debug)
    return plan, stats + plan_stats
