"""Dead-code elimination."""

from __future__ import annotations

from ..ir import Graph
from ._report import report


def dead_code_elimination(graph: Graph) -> Graph:
    """Guarantee: every remaining node has an output that reaches a graph output; nothing else
    changes. Random ops are kept only if used: their RNG state update is itself an output, so
    an unused draw still advances it."""
    live = {o.value for o in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if any(v in live for v in node.outputs):
            kept.append(node)
            live.update(node.input_values())
    removed = len(graph.nodes) - len(kept)
    graph.nodes = list(reversed(kept))
    report(f"{removed} nodes removed")
    return graph
