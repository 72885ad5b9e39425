"""Shape propagation: every node's output types, re-derived from its op."""

from __future__ import annotations

from ..ir import Graph
from ..shapes import infer_types
from ..verify import VerifyError
from ._report import report


def shape_propagation(graph: Graph) -> Graph:
    """Guarantee: every node's recorded output shapes and dtypes equal what its op gives on
    its inputs: the op's type rule where it has one (a grad node: one output per leaf with
    the leaf's type, and a seed of the loss's shape), else its op-table kernel
    (jax.eval_shape). Raises VerifyError naming the node otherwise; the graph is returned
    unchanged."""
    checked = 0
    for node in graph.nodes:
        where = f"node {node.op} -> {', '.join('%' + v.name for v in node.outputs)}"
        try:
            expected = infer_types(node.op, node.inputs, node.attrs)
        except ValueError as err:
            if node.opdef.types is None:    # a kernel's own error propagates, as before
                raise
            raise VerifyError(f"{where}: {err}") from None
        if len(expected) != len(node.outputs):
            raise VerifyError(f"{where}: its kernel gives {len(expected)} outputs, the node "
                              f"records {len(node.outputs)}")
        for v, (shape, dtype) in zip(node.outputs, expected, strict=True):
            if v.shape != tuple(shape) or v.dtype != dtype:
                raise VerifyError(f"{where}: %{v.name} is recorded as {v.type_str} but "
                                  f"computes {dtype}{list(shape)}")
        checked += 1
    report(f"{checked} nodes checked")
    return graph
