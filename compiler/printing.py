"""The deterministic text form of a graph (what `str(graph)` prints)."""

from __future__ import annotations

import numpy as np
from graphnet._dtype import short_name

from .ir import Graph, Value


def format_literal(x) -> str:
    if isinstance(x, Value):
        return f"%{x.name}"
    if isinstance(x, Graph):         # a sub-graph attribute: by name, its text follows the node
        return x.name
    if isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)):
        return short_name(x)
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, tuple):
        return "(" + ", ".join(format_literal(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    return repr(x)


def format_attrs(attrs: dict) -> str:
    return ", ".join(f"{k}={format_literal(v)}" for k, v in attrs.items())


def format_node(node) -> str:
    outs = ", ".join(f"%{v.name}: {v.type_str}" for v in node.outputs)
    if len(node.outputs) > 1:
        outs = f"({outs})"
    args = ", ".join(format_literal(x) for x in node.inputs)
    attrs = format_attrs(node.attrs)
    call = f"{node.op}({args}{', ' if args and attrs else ''}{attrs})"
    line = f"{outs} = {call}"
    return f"{line}  # {node.module}" if node.module else line


def graph_to_text(graph: Graph) -> str:
    def group(kind):
        return ", ".join(f"%{v.name}: {v.type_str}" for v in graph.inputs if v.kind == kind)

    header = f"graph {graph.name}({group('arg')})"
    lines = [header + ":"]
    for kind in ("state", "scalar"):
        if any(v.kind == kind for v in graph.inputs):
            lines.append(f"  {kind}({group(kind)})")
    for node in graph.nodes:
        lines.append("  " + format_node(node))
        for _, sub in node.subgraphs():     # cond / while_loop branches, indented under it
            lines += ["    " + line for line in graph_to_text(sub).splitlines()]
    returned = [o for o in graph.outputs if o.role == "out"]
    lines.append("  return " + ", ".join(f"%{o.value.name}" for o in returned))
    for role in ("state", "grad", "new"):
        writes = [o for o in graph.outputs if o.role == role]
        if writes:
            lines.append(f"  {role} " + ", ".join(f"{o.target} <- %{o.value.name}"
                                                 for o in writes))
    return "\n".join(lines)
