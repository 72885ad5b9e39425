"""Algebraic simplification: identities that make a node's result equal one of its inputs."""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Value
from ._report import report
from ._rewrite import grad_leaves, remove_nodes, replace_uses


def _is_number(x, number) -> bool:
    """Is `x` the literal `number`, or a value made by `full`/`constant` holding only it?"""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return x == number
    if not isinstance(x, Value) or x.node is None:
        return False
    if x.node.op == "full":
        value = x.node.attrs["value"]
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value == number
    if x.node.op == "constant":
        return bool(np.all(x.node.attrs["value"].array() == number))
    return False


def _same_type(node, x) -> bool:
    # The result may replace `x` only if nothing about it changes: no broadcast, no promotion,
    # and `x` is not a weakly typed scalar that would promote differently downstream.
    out = node.outputs[0]
    return isinstance(x, Value) and x.shape == out.shape and x.dtype == out.dtype \
        and not x.weak_type


def _identity(left_unit=None, right_unit=None):
    """x op unit -> x (and unit op x -> x when `left_unit` is given)."""
    def rule(node):
        a, b = node.inputs
        if right_unit is not None and _is_number(b, right_unit) and _same_type(node, a):
            return a
        if left_unit is not None and _is_number(a, left_unit) and _same_type(node, b):
            return b
        return None
    return rule


def _axis(d: int, ndim: int) -> int:
    return d + ndim if d < 0 else d


def _reshape(node):
    x = node.inputs[0]
    if _same_type(node, x):
        return x
    if isinstance(x, Value) and x.node is not None and x.node.op == "reshape":
        return ("inputs", (x.node.inputs[0],))       # reshape(reshape(y)) -> reshape(y)
    return None


def _transpose(node):
    x = node.inputs[0]
    if isinstance(x, Value) and x.node is not None and x.node.op == "transpose":
        n = len(x.shape)
        outer = {_axis(node.attrs["dim0"], n), _axis(node.attrs["dim1"], n)}
        inner = {_axis(x.node.attrs["dim0"], n), _axis(x.node.attrs["dim1"], n)}
        y = x.node.inputs[0]
        if outer == inner and _same_type(node, y):
            return y
    return None


def _permute(node):
    x = node.inputs[0]
    if isinstance(x, Value) and x.node is not None and x.node.op == "permute":
        n = len(x.shape)
        inner = [_axis(d, n) for d in x.node.attrs["dims"]]
        outer = [_axis(d, n) for d in node.attrs["dims"]]
        y = x.node.inputs[0]
        if [inner[d] for d in outer] == list(range(n)) and _same_type(node, y):
            return y
    return None


def _cast(node):
    x = node.inputs[0]
    return x if _same_type(node, x) else None


# op -> rule(node) returning the input that equals the node's result, ("inputs", new inputs)
# for a cheaper equivalent node, or None.
RULES = {
    "mul": _identity(left_unit=1, right_unit=1),
    "add": _identity(left_unit=0, right_unit=0),
    "sub": _identity(right_unit=0),
    "div": _identity(right_unit=1),
    "reshape": _reshape,
    "transpose": _transpose,
    "permute": _permute,
    "cast": _cast,
}


def algebraic_simplification(graph: Graph) -> Graph:
    """Guarantee: x*1, 1*x, x+0, 0+x, x-0, x/1, a reshape to the input's own shape, a cast to
    the input's own dtype, and a transpose (or permute) undone by the next one are replaced by
    their input value (users and graph outputs read it); a reshape of a reshape reads the
    inner input. Only when the result has exactly the input's shape and dtype. NOTE: like
    XLA, `x + 0 -> x` keeps the sign of a -0.0 that IEEE addition would drop."""
    keep = grad_leaves(graph)
    mapping: dict = {}
    replaced, rewritten = set(), 0
    for node in graph.nodes:
        if any(isinstance(x, Value) and x in mapping for x in node.inputs):
            node.inputs = tuple(mapping.get(x, x) if isinstance(x, Value) else x
                                for x in node.inputs)
        rule = RULES.get(node.op)
        if rule is None or any(v in keep for v in node.outputs) or any(
                isinstance(x, Value) and x in keep for x in node.inputs):
            continue    # `x * w`, w = ones(requires_grad=True): dropping w drops its gradient
        result = rule(node)
        if isinstance(result, tuple):       # rewritten; the new form may simplify further
            node.inputs = result[1]
            rewritten += 1
            result = rule(node)
        if isinstance(result, Value):
            mapping[node.outputs[0]] = result
            replaced.add(node)
    replace_uses(graph, mapping)
    remove_nodes(graph, replaced)
    report(f"{len(replaced)} nodes replaced by an input, {rewritten} rewritten")
    return graph
