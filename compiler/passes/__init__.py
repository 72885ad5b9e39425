"""The pass pipeline: one readable list of named passes, each `Graph -> Graph`."""

from __future__ import annotations

from ..verify import verify
from .dce import dead_code_elimination

PIPELINE = [dead_code_elimination]
BY_NAME = {p.__name__: p for p in PIPELINE}


def run_pipeline(traced, passes=None, disable=(), debug: bool = False):
    """Run the selected passes over `traced.graph`; returns (graph, [stat lines])."""
    chosen = PIPELINE if passes is None else [BY_NAME[p] if isinstance(p, str) else p
                                              for p in passes]
    unknown = [d for d in disable if d not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown pass(es) {unknown}; passes are {sorted(BY_NAME)}")
    graph, stats = traced.graph, []
    for pass_fn in chosen:
        if pass_fn.__name__ in disable:
            continue
        before = len(graph.nodes)
        graph = pass_fn(graph)
        stats.append(f"{pass_fn.__name__}: {before} -> {len(graph.nodes)} nodes")
        if debug:
            verify(graph)
    return graph, stats
