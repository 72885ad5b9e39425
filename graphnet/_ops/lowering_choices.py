"""Which lowering each convolution and max pool of a graph was given, for explain() and the
plan dump: the row conv_autotune recorded in this process for the node's shapes and options
(measured now, read from the cache, or the fixed rule)."""

from __future__ import annotations

import numpy as np

from . import conv_autotune
from .pool_autotune import pool_key


def _key(node) -> str | None:
    """The autotune key a conv or max_pool node's kernel looked up, None for other nodes."""
    values = node.input_values()
    if not values or not np.issubdtype(values[0].dtype, np.floating):
        return None
    a = node.attrs
    if node.op == "conv":
        key, _ = conv_autotune.conv_key(values[0].shape, values[1].shape, a["stride"],
                                        a["padding"], a["dilation"], a["groups"],
                                        values[0].dtype)
        return key
    if node.op == "max_pool" and all(d == 1 for d in a["dilation"]):
        key, _ = pool_key(values[0].shape, a["kernel_size"], a["stride"], a["padding"],
                          a.get("ceil_mode", False), values[0].dtype)
        return key
    return None


def keys(graph) -> set:
    """The autotune keys of `graph`'s conv and max_pool nodes (sub-graphs included)."""
    return {k for k in (_key(n) for n in _nodes(graph)) if k}


def _nodes(graph):
    for node in graph.nodes:
        yield node
        for _, sub in node.subgraphs():
            yield from _nodes(sub)


def for_graph(graph, overrides: dict | None = None) -> list:
    """One dict per conv / max_pool node of `graph` (sub-graphs included) whose lowering this
    process recorded: node, module, op, input shape, choice ({direction: candidate}), source,
    the measured seconds per candidate when there are any, and its autotune key. A choice the
    whole-step refinement changed (`overrides`, runtime/refine.py) has source "step"."""
    used = {row["key"]: row for row in conv_autotune.conv_choices()}
    overrides = overrides or {}
    rows = []
    for node in _nodes(graph):
        key = _key(node)
        row = used.get(key) if key else None
        if row is None:
            continue
        changed = key in overrides
        rows.append({"node": f"%{node.outputs[0].name}", "module": node.module,
                     "op": row["op"], "input": row["input"],
                     **({"weight": row["weight"]} if "weight" in row else {}),
                     "choice": dict(overrides[key]) if changed else row["choice"],
                     "source": "step" if changed else row["source"],
                     "times_s": row.get("times_s", {}), "key": key,
                     "input_kind": node.input_values()[0].kind})
    return rows


def format_rows(rows: list, option_set: str | None) -> list:
    """Text lines: the XLA option set, then one line per row."""
    lines = [f"XLA CPU option set: {option_set}" if option_set else
             "XLA options: the backend's defaults"]
    for row in rows:
        shapes = "x" + _dims(row["input"]) + (f" w{_dims(row['weight'])}"
                                                if "weight" in row else "")
        choice = " ".join(f"{d}={name}" for d, name in row["choice"].items())
        where = f" ({row['module']})" if row["module"] else ""
        lines.append(f"{row['node']} = {row['op']} {shapes}{where}: {choice} "
                     f"[{row['source']}]")
    if not rows:
        lines.append("no convolution or max pool")
    return lines


def _dims(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"
