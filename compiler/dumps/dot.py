"""`to_dot(graph)`: Graphviz source for a graph; `render(graph, path)` runs the `dot` binary.

Each node is a box labelled with its op and output type(s), drawn inside nested clusters for
its module path (`features.0` sits in cluster `0` inside cluster `features`). Graph inputs
are ellipses: arguments blue, captured state grey, scalars yellow. Outputs are orange
octagons named `role target` (`out 0`, `state 0.weight`, `grad 0.weight`). An edge from a
node with several outputs is labelled with the output index."""

from __future__ import annotations

import os
import shutil
import subprocess

from ..ir import Graph, Node
from ..printing import format_attrs

INPUT_STYLE = {"arg": "#cfe2ff", "state": "#e5e5e5", "scalar": "#fff3bf"}
OUTPUT_STYLE = "#ffd8a8"
MAX_OUTPUT_LINES = 4      # a node with more outputs (an optimizer update) lists the first few


class GraphvizNotFound(RuntimeError):
    """`render` needs Graphviz's `dot` program, which is not on PATH."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_label(node: Node) -> str:
    types = [v.type_str for v in node.outputs]
    if len(types) > MAX_OUTPUT_LINES:
        types = types[:MAX_OUTPUT_LINES - 1] + [f"... {len(types)} outputs"]
    attrs = format_attrs(node.attrs)
    head = f"{node.op}({attrs})" if attrs and len(attrs) <= 40 else node.op
    return "\n".join([head] + types)


def _module_tree(nodes) -> dict:
    """Nested dict path-part -> subtree; key None holds the nodes at that level, in order."""
    root: dict = {None: []}
    for i, node in enumerate(nodes):
        level = root
        for part in node.module.split(".") if node.module else []:
            level = level.setdefault(part, {None: []})
        level[None].append(i)
    return root


def _emit_cluster(tree: dict, path: list, nodes, lines: list, indent: str, prefix: str) -> None:
    for i in tree[None]:
        lines.append(f"{indent}{prefix}n{i} [label={_quote(_node_label(nodes[i]))}];")
    for part, subtree in tree.items():
        if part is None:
            continue
        full = path + [part]
        lines.append(f"{indent}subgraph {_quote('cluster_' + prefix + '.'.join(full))} {{")
        lines.append(f"{indent}  label={_quote(part)}; style=rounded; color=\"#868e96\";")
        _emit_cluster(subtree, full, nodes, lines, indent + "  ", prefix)
        lines.append(f"{indent}}}")


def to_dot(graph: Graph) -> str:
    """Graphviz `digraph` source; deterministic (graph order decides every id and line).
    A node's sub-graphs (`cond` / `while_loop` branches) are dashed clusters of their own,
    their ids prefixed by the node's, with a dashed edge from each branch's outputs to it."""
    lines = [f"digraph {_quote(graph.name)} {{",
             "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor=white, '
             'fontname="monospace", fontsize=10];',
             '  edge [fontname="monospace", fontsize=9];']
    _emit_graph(graph, "", lines, "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _emit_graph(graph: Graph, prefix: str, lines: list, indent: str) -> None:
    where = {}   # Value -> (dot id, output index or None)
    for i, v in enumerate(graph.inputs):
        where[v] = (f"{prefix}i{i}", None)
        label = _quote(v.name + "\n" + v.type_str)
        lines.append(f"{indent}{prefix}i{i} [label={label}, shape=ellipse, "
                     f"fillcolor={_quote(INPUT_STYLE[v.kind])}, tooltip={_quote(v.kind)}];")
    for i, node in enumerate(graph.nodes):
        for v in node.outputs:
            where[v] = (f"{prefix}n{i}", v.index if len(node.outputs) > 1 else None)
    _emit_cluster(_module_tree(graph.nodes), [], graph.nodes, lines, indent, prefix)
    for i, out in enumerate(graph.outputs):
        label = _quote(f"{out.role} {out.target}")
        lines.append(f"{indent}{prefix}o{i} [label={label}, shape=octagon, "
                     f"fillcolor={_quote(OUTPUT_STYLE)}];")
    for i, node in enumerate(graph.nodes):
        for v in node.input_values():
            lines.append(indent + _edge(where[v], f"{prefix}n{i}"))
    for i, out in enumerate(graph.outputs):
        lines.append(indent + _edge(where[out.value], f"{prefix}o{i}"))
    for i, node in enumerate(graph.nodes):
        for name, sub in node.subgraphs():
            inner = f"{prefix}n{i}_{name}_"
            lines.append(f"{indent}subgraph {_quote('cluster_' + inner)} {{")
            lines.append(f"{indent}  label={_quote(f'{name}: {sub.name}')}; style=dashed; "
                         f"color=\"#868e96\";")
            _emit_graph(sub, inner, lines, indent + "  ")
            lines.append(f"{indent}}}")
            for k in range(len(sub.outputs)):
                lines.append(f"{indent}{inner}o{k} -> {prefix}n{i} [style=dashed];")


def _edge(source: tuple, target: str) -> str:
    name, index = source
    label = f" [label={_quote(str([index]))}]" if index is not None else ""
    return f"{name} -> {target}{label};"


def render(graph: Graph, path: str, format: str = "svg") -> str:
    """Write `path` (an svg or png image) with Graphviz's `dot`; returns `path`.

    The source always goes to `path` with a `.dot` suffix first, so without Graphviz there is
    still something to open (raises GraphvizNotFound saying so)."""
    if format not in ("svg", "png"):
        raise ValueError(f"render: format must be 'svg' or 'png', got {format!r}")
    source = os.path.splitext(path)[0] + ".dot"
    with open(source, "w") as f:
        f.write(to_dot(graph))
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizNotFound(
            f"Graphviz's `dot` program was not found on PATH, so {path} was not drawn. The "
            f"Graphviz source was written to {source} instead. Install Graphviz (Debian/Ubuntu: "
            f"`apt-get install graphviz`, macOS: `brew install graphviz`) and run render() "
            f"again, or `dot -T{format} {source} -o {path}`.")
    done = subprocess.run([binary, f"-T{format}", source, "-o", path], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dot -T{format} {source} failed (exit {done.returncode}): "
                           f"{done.stderr.strip()}")
    return path
