"""`to_table(graph)`: the graph as an aligned plain-text table, one row per input, node and
output (the shape of torch.fx's `print_tabular`, without a rendering dependency).

    opcode       name      op      module  inputs                       attrs  shape/dtype
    -----------  --------  ------  ------  ---------------------------  -----  ------------
    placeholder  input     arg                                                 f32[128,784]
    call         linear    linear  0       %input, %0.weight, %0.bias          f32[128,256]
    output       0         out             %linear_2                           f32[128,10]

Placeholders are the graph's inputs (`op` says which kind: arg, state or scalar); calls are
nodes; outputs say what each result is for (`op` is the role, `name` the target it goes to)."""

from __future__ import annotations

import textwrap

from ..ir import Graph
from ..printing import format_attrs, format_literal

COLUMNS = ("opcode", "name", "op", "module", "inputs", "attrs", "shape/dtype")
MAX_CELL = 48


def _joined(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"


def rows(graph: Graph) -> list[tuple[str, ...]]:
    """The table's rows (without the header), in graph order."""
    result = [("placeholder", v.name, v.kind, "", "", "", v.type_str) for v in graph.inputs]
    for node in graph.nodes:
        result.append(("call", _joined(v.name for v in node.outputs), node.op, node.module,
                       ", ".join(format_literal(x) for x in node.inputs),
                       format_attrs(node.attrs), _joined(v.type_str for v in node.outputs)))
    for out in graph.outputs:
        result.append(("output", out.target, out.role, "", f"%{out.value.name}", "",
                       out.value.type_str))
    return result


def _wrap(cell: str) -> list[str]:
    # NOTE: an optimizer update reads every parameter and grad; wrapping its cells at ", "
    # keeps the other rows readable instead of padding them all to hundreds of columns.
    return textwrap.wrap(cell, MAX_CELL, break_long_words=False, break_on_hyphens=False) or [""]


def to_table(graph: Graph) -> str:
    """Plain text, columns padded to their widest line; cells longer than MAX_CELL wrap onto
    continuation lines at spaces. Deterministic for a given graph."""
    wrapped = [[_wrap(cell) for cell in row] for row in [COLUMNS] + rows(graph)]
    widths = [max(len(line) for row in wrapped for line in row[i]) for i in range(len(COLUMNS))]
    wrapped.insert(1, [["-" * w] for w in widths])
    lines = []
    for row in wrapped:
        for k in range(max(len(cell) for cell in row)):
            parts = [(cell[k] if k < len(cell) else "").ljust(width)
                     for cell, width in zip(row, widths, strict=True)]
            lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
