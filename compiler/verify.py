"""`verify(graph)`: the IR's well-formedness, checked between passes in tests and debug mode."""

from __future__ import annotations

import functools

import jax
from graphnet._ops import OPS

from .ir import Graph, Value


class VerifyError(AssertionError):
    """The graph is malformed: a pass (or the tracer) broke an IR invariant."""


def verify(graph: Graph, check_shapes: bool = True) -> Graph:
    """Check: every input defined before use, names unique, ops known, each node's recorded
    output types equal what its kernel produces, and every output defined."""
    defined = set(graph.inputs)
    names = set()
    for v in graph.inputs:
        if v.name in names:
            raise VerifyError(f"duplicate value name %{v.name}")
        names.add(v.name)
    for node in graph.nodes:
        where = f"node {node.op} -> {', '.join('%' + v.name for v in node.outputs)}"
        if node.op != "grad" and node.op not in OPS:
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
        if check_shapes and node.op != "grad":
            _check_types(node, where)
    for out in graph.outputs:
        if out.value not in defined:
            raise VerifyError(f"output {out.role}:{out.target} reads undefined %{out.value.name}")
    return graph


def _check_types(node, where: str) -> None:
    opdef = OPS[node.op]
    specs = [jax.ShapeDtypeStruct(x.shape, x.dtype, weak_type=x.weak_type)
             if isinstance(x, Value) else x for x in node.inputs]
    out = jax.eval_shape(functools.partial(opdef.impl, **node.attrs), *specs)
    outs = out if opdef.n_outputs != 1 else (out,)
    if len(outs) != len(node.outputs):
        raise VerifyError(f"{where}: kernel gives {len(outs)} outputs, node has "
                          f"{len(node.outputs)}")
    for v, o in zip(node.outputs, outs):
        if tuple(o.shape) != v.shape or o.dtype != v.dtype:
            raise VerifyError(f"{where}: %{v.name} recorded as {v.type_str} but the kernel "
                              f"gives {o.dtype}{list(o.shape)}")
