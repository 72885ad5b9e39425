"""Dead-code elimination."""

from __future__ import annotations

from ..checks import checked_call
from ..ir import Graph
from ._report import report


def dead_code_elimination(graph: Graph) -> Graph:
    """Guarantee: every remaining node has an output that reaches a graph output, or checks
    its inputs' values; nothing else changes. Random ops are kept only if used: their RNG
    state update is itself an output, so an unused draw still advances it.

    NOTE: a checked op (labels, indices: compiler/checks.py) stays even when nothing reads
    its result, as PyTorch computes it and raises: an unused `cross_entropy(out, y)` metric
    with a bad label gave numbers compiled. Its check reads its inputs, so XLA still drops
    the unused result itself."""
    live = {o.value for o in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if any(v in live for v in node.outputs) or checked_call(node) is not None:
            kept.append(node)
            live.update(node.input_values())
    removed = len(graph.nodes) - len(kept)
    graph.nodes = list(reversed(kept))
    report(f"{removed} nodes removed")
    return graph
