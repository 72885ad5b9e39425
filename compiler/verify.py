"""`verify(graph)`: the IR's well-formedness, checked between passes in tests and debug mode."""

from __future__ import annotations

from graphnet._ops import OPS

from .ir import Graph
from .shapes import infer_types


class VerifyError(AssertionError):
    """The graph is malformed: a pass (or the tracer) broke an IR invariant."""


def verify(graph: Graph, check_shapes: bool = True) -> Graph:
    """Check: every input defined before use, names unique, ops known, each node's recorded
    output types equal what its op's type rule or kernel produces, every output defined, and
    the same for each sub-graph attribute (`cond` / `while_loop` branches)."""
    defined = set(graph.inputs)
    names = set()
    for v in graph.inputs:
        if v.name in names:
            raise VerifyError(f"duplicate value name %{v.name}")
        names.add(v.name)
    for node in graph.nodes:
        where = f"node {node.op} -> {', '.join('%' + v.name for v in node.outputs)}"
        if node.op not in OPS:
            raise VerifyError(f"{where}: unknown op {node.op!r}")
        for x in node.input_values():
            if x not in defined:
                raise VerifyError(f"{where}: input %{x.name} is used before it is defined")
        for v in node.outputs:
            if v.name in names:
                raise VerifyError(f"{where}: duplicate value name %{v.name}")
            if v.node is not node:
                raise VerifyError(f"{where}: %{v.name} does not point back at its node")
            names.add(v.name)
            defined.add(v)
        for name, sub in node.subgraphs():
            try:
                verify(sub, check_shapes)
            except VerifyError as err:
                raise VerifyError(f"{where}: branch {name}: {err}") from None
        if check_shapes:
            _check_types(node, where)
    for out in graph.outputs:
        if out.value not in defined:
            raise VerifyError(f"output {out.role}:{out.target} reads undefined %{out.value.name}")
    return graph


def _check_types(node, where: str) -> None:
    try:
        types = infer_types(node.op, node.inputs, node.attrs)
    except (TypeError, ValueError) as err:
        raise VerifyError(f"{where}: its kernel rejects these inputs: {err}") from None
    if len(types) != len(node.outputs):
        raise VerifyError(f"{where}: kernel gives {len(types)} outputs, node has "
                          f"{len(node.outputs)}")
    for v, (shape, dtype) in zip(node.outputs, types):
        if tuple(shape) != v.shape or dtype != v.dtype:
            raise VerifyError(f"{where}: %{v.name} recorded as {v.type_str} but the kernel "
                              f"gives {dtype}{list(shape)}")
