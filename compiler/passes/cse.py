"""Common-subexpression elimination."""

from __future__ import annotations

from ..ir import Graph, Value
from ._report import report
from ._rewrite import grad_leaves, is_random, remove_nodes, replace_uses


def _key(node, mapping: dict):
    # Inputs are read through `mapping`, so a node fed by duplicates is itself a duplicate.
    inputs = tuple(("V", id(mapping.get(x, x))) if isinstance(x, Value) else ("L", type(x), x)
                   for x in node.inputs)
    # Types ride along so 1 and 1.0 (or True) never count as the same attribute.
    attrs = tuple(sorted((k, type(v), v) for k, v in node.attrs.items()))
    return node.op, inputs, attrs, tuple(v.type_str for v in node.outputs)


def common_subexpression_elimination(graph: Graph) -> Graph:
    """Guarantee: no two remaining nodes have the same op, the same inputs and the same
    attributes, except nodes whose op is not `mergeable` (grad, cond, while_loop), random
    draws (two draws are two draws, even from equal-looking keys) and nodes whose outputs are
    grad leaves. The later duplicate is removed and
    its uses read the earlier node's outputs."""
    keep_apart = grad_leaves(graph)
    first: dict = {}
    mapping: dict = {}
    merged = set()
    for node in graph.nodes:
        if not node.opdef.mergeable or is_random(node) \
                or any(v in keep_apart for v in node.outputs):
            continue
        key = _key(node, mapping)
        try:
            earlier = first.setdefault(key, node)
        except TypeError:                   # an unhashable attribute: leave the node alone
            continue
        if earlier is not node:
            mapping.update(zip(node.outputs, earlier.outputs, strict=True))
            merged.add(node)
    replace_uses(graph, mapping)
    remove_nodes(graph, merged)
    report(f"{len(merged)} nodes merged")
    return graph
