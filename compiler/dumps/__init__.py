"""Every way to look at a graph: text (`str(graph)`), a table, runnable Python, Graphviz,
versioned JSON that loads back, the fused plan, and what XLA compiles it to. docs/dumps.md
shows each one."""

from .code import run_grad, to_code
from .dot import GraphvizNotFound, render, to_dot
from .hlo import format_hlo_dump, hlo_dump
from .json_schema import GraphJSONError, from_json, to_json
from .plan_report import format_plan_dump, plan_dump
from .table import to_table

__all__ = ["to_table", "to_code", "run_grad", "to_dot", "render", "GraphvizNotFound",
           "to_json", "from_json", "GraphJSONError", "hlo_dump", "format_hlo_dump",
           "plan_dump", "format_plan_dump"]
