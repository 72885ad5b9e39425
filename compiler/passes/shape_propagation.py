"""Shape propagation: every node's output types, re-derived from its kernel."""

from __future__ import annotations

from ..ir import Graph
from ..verify import VerifyError
from ._report import report
from ..shapes import infer_types


def shape_propagation(graph: Graph) -> Graph:
    """Guarantee: every node's recorded output shapes and dtypes equal what its op-table kernel
    gives on its inputs (jax.eval_shape), and every grad node has one output per leaf with the
    leaf's type (and a cotangent of the loss's type). Raises VerifyError naming the node
    otherwise; the graph is returned unchanged."""
    checked = 0
    for node in graph.nodes:
        where = f"node {node.op} -> {', '.join('%' + v.name for v in node.outputs)}"
        if node.op == "grad":
            expected = _grad_types(node, where)
        else:
            expected = infer_types(node.op, node.inputs, node.attrs)
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


def _grad_types(node, where: str) -> list:
    has_ct, n = node.attrs["has_cotangent"], node.attrs["n_leaves"]
    root, leaves = node.inputs[0], node.inputs[2 if has_ct else 1:]
    if len(leaves) != n:
        raise VerifyError(f"{where}: n_leaves={n} but {len(leaves)} leaves are given")
    if has_ct:
        ct = node.inputs[1]
        if ct.shape != root.shape:
            raise VerifyError(f"{where}: cotangent %{ct.name} is {ct.type_str} but the loss "
                              f"%{root.name} is {root.type_str}")
    return [(leaf.shape, leaf.dtype) for leaf in leaves]
