"""Dead-code elimination."""

from __future__ import annotations

from ..ir import Graph


def dead_code_elimination(graph: Graph) -> Graph:
    """Remove nodes none of whose outputs reach a graph output. Random ops are kept only if
    used: their RNG state update is itself an output, so an unused draw still advances it."""
    live = {o.value for o in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if any(v in live for v in node.outputs):
            kept.append(node)
            live.update(node.input_values())
    graph.nodes = list(reversed(kept))
    return graph
