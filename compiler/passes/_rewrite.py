"""What the rewriting passes share: infer a node's types, insert a node, redirect a value's
uses, and the two kinds of node no rewrite may merge or replace (random draws, grad leaves)."""

from __future__ import annotations

from ..ir import Graph, Node, Output, Value
from ..shapes import infer_types

def is_random(node: Node) -> bool:
    """True for nodes that consume RNG state: two equal-looking draws are still two draws.
    That is an op declared `random` in the op table, or any node reading a key (a uint32
    value such an op made, as `rng_split` does)."""
    if node.opdef.random:
        return True
    return any(v.node is not None and v.node.opdef.random and v.dtype == "uint32"
               for v in node.input_values())


def grad_leaves(graph: Graph) -> set:
    """Values some gradient node differentiates with respect to (its `leaves` field). They
    must keep their identity: merging two leaves, or replacing one by another value, would
    change which gradient is which."""
    leaves = set()
    for node in graph.nodes:
        if node.opdef.gradient:
            leaves.update(node.fields["leaves"])
    return leaves


def insert_node(graph: Graph, before: Node, op: str, inputs: list, attrs: dict,
                origin: Node | None = None) -> Value:
    """Add a one-output node just before `before` and return its value. It carries the module
    path and source line of `origin` (the node it stands in for; default `before`)."""
    origin = origin or before
    types = infer_types(op, inputs, attrs)
    node = graph.add_node(op, inputs, attrs, types, origin.module, origin.source)
    graph.nodes.pop()                       # add_node appends; move it into place
    graph.nodes.insert(graph.nodes.index(before), node)
    return node.outputs[0]


def replace_uses(graph: Graph, mapping: dict) -> None:
    """Every read of a key of `mapping` (node inputs and graph outputs) reads its value instead.
    Graph outputs keep their order and roles: the runtime writes results back by position."""
    if not mapping:
        return

    def resolve(x):
        while isinstance(x, Value) and x in mapping:
            x = mapping[x]
        return x

    for node in graph.nodes:
        if any(isinstance(x, Value) and x in mapping for x in node.inputs):
            node.inputs = tuple(resolve(x) for x in node.inputs)
    graph.outputs = [Output(o.role, o.target, resolve(o.value)) for o in graph.outputs]


def remove_nodes(graph: Graph, dead: set) -> None:
    graph.nodes = [n for n in graph.nodes if n not in dead]
