"""Every way to look at a graph: text (`str(graph)`), a table, runnable Python, Graphviz and
versioned JSON that loads back. The dumps that need a compiled artifact (the fused plan and
what XLA compiles it to) are in graphnet.runtime.artifact_dumps. docs/dumps.md shows each
one."""

from .code import run_grad, to_code
from .dot import GraphvizNotFound, render, to_dot
from .json_schema import GraphJSONError, from_json, to_json
from .table import to_table

__all__ = ["to_table", "to_code", "run_grad", "to_dot", "render", "GraphvizNotFound",
           "to_json", "from_json", "GraphJSONError"]
