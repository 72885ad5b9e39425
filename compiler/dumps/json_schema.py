"""`to_json(graph)` / `from_json(text)`: a graph as versioned JSON that rebuilds exactly.

Schema `graphnet.graph`, versions 1 and 2 (docs/dumps.md describes every field):

    {"schema": "graphnet.graph", "version": 1, "name": "Sequential",
     "inputs":  [{"name": "input", "shape": [128, 784], "dtype": "float32",
                  "kind": "arg", "weak_type": false}, ...],
     "nodes":   [{"op": "linear", "inputs": [{"$ref": "input"}, ...], "attrs": {},
                  "outputs": [{"name": "linear", "shape": [128, 256], "dtype": "float32"}],
                  "module": "0", "source": "model.py:12"}, ...],
     "outputs": [{"role": "out", "target": "0", "value": "linear_2"}, ...]}

Literals (node inputs that are not values, and attribute values) are plain JSON where JSON
keeps them exactly (int, bool, str, null, finite float) and tagged objects otherwise:
`{"$ref": name}` a value, `{"$tuple": [...]}`, `{"$float": "inf" | "-inf" | "nan"}`,
`{"$dtype": "float32"}` a numpy dtype, `{"$scalar_type": "float32"}` a numpy scalar type such
as `np.float32`, `{"$numpy": "float32", "value": ...}` a numpy scalar,
`{"$constant": {"dtype", "shape", "data"}}` a folded constant's array (data: base64 bytes), and
`{"$branch": {"name", "inputs", "nodes", "outputs"}}` a sub-graph attribute (a `cond` /
`while_loop` branch) in this same form (without schema and version), with value names of its
own; it reads back as a `Graph`.

Version 2 added `$branch`; nothing else changed. A file declares the oldest version that holds
it, so a graph without branches is still written as version 1, which older readers read."""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
from graphnet import _dtype

from ..ir import INPUT_KINDS, OUTPUT_ROLES, Graph, Node, Output, Value

SCHEMA, VERSION = "graphnet.graph", 2
READABLE_VERSIONS = (1, 2)


class GraphJSONError(ValueError):
    """The text is not a graph this version of graphnet can read."""


# ---- literals -------------------------------------------------------------------------------
def _dtype_from_name(name: str) -> np.dtype:
    # NOTE: np.dtype("bfloat16") fails unless ml_dtypes registered it; graphnet's table knows it.
    known = _dtype._BY_NAME.get(name)
    if known is not None:
        return known.np
    try:
        return np.dtype(name)
    except TypeError:
        import ml_dtypes  # jax's extra float types (float8_*, int4 ...) by name

        if not hasattr(ml_dtypes, name):
            raise
        return np.dtype(getattr(ml_dtypes, name))


def _is_constant(x) -> bool:
    # NOTE: by name, so this module does not import the op table's constant support eagerly
    return type(x).__name__ == "ConstantValue" and hasattr(x, "data")


def _has_branches(graph: Graph) -> bool:
    return any(node.subgraphs() for node in graph.nodes)


def encode(x, where: str):
    """A literal as JSON-ready data (see the module docstring for the tags)."""
    if isinstance(x, Value):
        return {"$ref": x.name}
    if _is_constant(x):  # an array baked in by constant folding: its exact bytes
        return {"$constant": {"dtype": x.dtype.name, "shape": list(x.shape),
                              "data": base64.b64encode(x.data).decode("ascii")}}
    if isinstance(x, Graph):  # a cond / while_loop branch: its sub-graph, recursively
        return {"$branch": _graph_fields(x, f"{where} (branch {x.name}): ")}
    if isinstance(x, np.generic):  # before float: np.float64 is a float subclass
        return {"$numpy": x.dtype.name, "value": encode(x.item(), where)}
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else {"$float": repr(x)}
    if isinstance(x, tuple):
        return {"$tuple": [encode(v, where) for v in x]}
    if isinstance(x, list):
        return [encode(v, where) for v in x]
    if isinstance(x, np.dtype):
        return {"$dtype": x.name}
    if isinstance(x, type) and issubclass(x, np.generic):
        return {"$scalar_type": np.dtype(x).name}
    raise GraphJSONError(f"{where}: cannot write {type(x).__name__} {x!r} as JSON; graph "
                         f"literals are numbers, strings, None, tuples, numpy dtypes and "
                         f"cond / while_loop branches")


def decode(x, values: dict, where: str):
    """Inverse of `encode`; `values` maps names to already rebuilt `Value`s."""
    if isinstance(x, list):
        return [decode(v, values, where) for v in x]
    if not isinstance(x, dict):
        return x
    if len(x) == 1 and "$ref" in x:
        if x["$ref"] not in values:
            raise GraphJSONError(f"{where}: reads %{x['$ref']}, which is not defined before it")
        return values[x["$ref"]]
    if len(x) == 1 and "$tuple" in x:
        return tuple(decode(v, values, where) for v in x["$tuple"])
    if len(x) == 1 and "$float" in x:
        return float(x["$float"])
    if len(x) == 1 and "$dtype" in x:
        return _dtype_from_name(x["$dtype"])
    if len(x) == 1 and "$scalar_type" in x:
        return _dtype_from_name(x["$scalar_type"]).type
    if len(x) == 1 and "$constant" in x:
        from graphnet._ops.constant import ConstantValue

        spec = x["$constant"]
        array = np.frombuffer(base64.b64decode(spec["data"]), _dtype_from_name(spec["dtype"]))
        return ConstantValue(array.reshape(spec["shape"]))
    if len(x) == 1 and "$branch" in x:
        # NOTE: a branch is closed (captures are its inputs), so it starts a fresh name scope
        return _build_graph(x["$branch"], f"{where} (branch): ")
    if set(x) == {"$numpy", "value"}:
        return _dtype_from_name(x["$numpy"]).type(decode(x["value"], values, where))
    raise GraphJSONError(f"{where}: unknown tagged literal {x!r}")


# ---- graphs ---------------------------------------------------------------------------------
def _graph_fields(graph: Graph, where: str) -> dict:
    """name, inputs, nodes and outputs: a whole graph, or a branch's sub-graph."""
    def typed(v: Value) -> dict:
        return {"name": v.name, "shape": list(v.shape), "dtype": v.dtype.name}

    nodes = []
    for node in graph.nodes:
        at = f"{where}node {node.op} -> %{node.outputs[0].name if node.outputs else '?'}"
        nodes.append({
            "op": node.op,
            "inputs": [encode(x, at) for x in node.inputs],
            "attrs": {k: encode(v, f"{at} attribute {k}") for k, v in node.attrs.items()},
            "outputs": [typed(v) for v in node.outputs],
            "module": node.module, "source": node.source})
    return {
        "name": graph.name,
        "inputs": [dict(typed(v), kind=v.kind, weak_type=v.weak_type) for v in graph.inputs],
        "nodes": nodes,
        "outputs": [{"role": o.role, "target": o.target, "value": o.value.name}
                    for o in graph.outputs]}


def to_dict(graph: Graph) -> dict:
    """The graph as JSON-ready data: version 2 if it has cond / while_loop branches, else 1."""
    version = VERSION if _has_branches(graph) else 1
    return {"schema": SCHEMA, "version": version, **_graph_fields(graph, "")}


def to_json(graph: Graph) -> str:
    """Strict JSON text (no NaN/Infinity tokens), one line per input, node and output so that
    dumps diff well; keys keep the graph's order. A branch's sub-graph is laid out the same
    way, indented inside its node's line."""
    return _render_graph(to_dict(graph), "") + "\n"


def _dump(x) -> str:
    return json.dumps(x, allow_nan=False)


def _render_graph(data: dict, pad: str) -> str:
    """A graph (or a branch's fields) as a JSON object: a line per key and per list item."""
    lines = []
    for key, item in data.items():
        if key in ("inputs", "nodes", "outputs") and item:
            rows = ",\n".join(f"{pad}    {_render(x, pad + '    ')}" for x in item)
            lines.append(f"{pad}  {_dump(key)}: [\n{rows}\n{pad}  ]")
        else:
            lines.append(f"{pad}  {_dump(key)}: {_dump(item)}")
    return "{\n" + ",\n".join(lines) + f"\n{pad}}}"


def _render(x, pad: str) -> str:
    """One line of compact JSON (json.dumps' separators), except a `$branch` graph."""
    if isinstance(x, dict):
        if len(x) == 1 and "$branch" in x:
            return f'{{"$branch": {_render_graph(x["$branch"], pad)}}}'
        return "{" + ", ".join(f"{_dump(k)}: {_render(v, pad)}" for k, v in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(_render(v, pad) for v in x) + "]"
    return _dump(x)


def from_dict(data: dict) -> Graph:
    """Rebuild a `Graph` from `to_dict` data; raises `GraphJSONError` on malformed input."""
    try:
        return _build(data)
    except (KeyError, TypeError) as err:
        raise GraphJSONError(f"malformed graph JSON ({type(err).__name__}: {err}); expected "
                             f"schema {SCHEMA} version {VERSION}, see docs/dumps.md") from None


def _build(data: dict) -> Graph:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise GraphJSONError(f"not a graphnet graph: expected \"schema\": \"{SCHEMA}\"")
    version = data.get("version")
    if version not in READABLE_VERSIONS:
        raise GraphJSONError(f"graph JSON version {version!r} is not supported; this graphnet "
                             f"reads versions {', '.join(map(str, READABLE_VERSIONS))}; a "
                             f"newer graphnet wrote it, or it is not a graphnet dump")
    graph = _build_graph(data, "")
    if version == 1 and _has_branches(graph):
        raise GraphJSONError("a version 1 graph holds a {\"$branch\": ...} attribute, which "
                             "only version 2 has; set \"version\": 2")
    return graph


def _build_graph(data: dict, where: str) -> Graph:
    """name, inputs, nodes and outputs (`_graph_fields`) back into a `Graph`; `where` prefixes
    error messages ("" at top level, the branch's node inside one)."""
    graph, values = Graph(data["name"]), {}

    def define(value: Value, at: str) -> Value:
        if value.name in values:
            raise GraphJSONError(f"{at}: value %{value.name} is defined twice")
        values[value.name] = value
        return value

    for spec in data["inputs"]:
        if spec["kind"] not in INPUT_KINDS:
            raise GraphJSONError(f"{where}input {spec['name']}: kind {spec['kind']!r} is not "
                                 f"one of {INPUT_KINDS}")
        value = Value(spec["name"], spec["shape"], _dtype_from_name(spec["dtype"]),
                      kind=spec["kind"], weak_type=spec["weak_type"])
        graph.inputs.append(define(value, f"{where}input {spec['name']}"))
    for i, spec in enumerate(data["nodes"]):
        at = f"{where}node {i} ({spec['op']})"
        node = Node(spec["op"], tuple(decode(x, values, at) for x in spec["inputs"]),
                    {k: decode(v, values, f"{at} attribute {k}")
                     for k, v in spec["attrs"].items()},
                    (), spec["module"], spec["source"])
        node.outputs = tuple(define(Value(o["name"], o["shape"], _dtype_from_name(o["dtype"]),
                                          node, j), at)
                             for j, o in enumerate(spec["outputs"]))
        graph.nodes.append(node)
    for spec in data["outputs"]:
        if spec["role"] not in OUTPUT_ROLES:
            raise GraphJSONError(f"{where}output {spec['target']}: role {spec['role']!r} is "
                                 f"not one of {OUTPUT_ROLES}")
        if spec["value"] not in values:
            raise GraphJSONError(f"{where}output {spec['role']}:{spec['target']} reads undefined "
                                 f"%{spec['value']}")
        graph.outputs.append(Output(spec["role"], spec["target"], values[spec["value"]]))
    _reserve_names(graph, values)
    return graph


def from_json(text: str) -> Graph:
    """`from_json(to_json(g))` prints (`str`) exactly like `g` and lowers to the same program."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise GraphJSONError(f"not valid JSON: {err}") from None
    return from_dict(data)


_SUFFIX = re.compile(r"^(.*)_(\d+)$")


def _reserve_names(graph: Graph, values: dict) -> None:
    """Make `graph.fresh_name` continue as the tracer would have, so a pass that adds nodes to
    a loaded graph never reuses a name: `linear_2` means base `linear` was used 3 times."""
    for name in values:
        base = name.split("[", 1)[0]
        graph._names[base] = max(graph._names.get(base, 0), 1)
        match = _SUFFIX.match(base)
        if match:
            stem, count = match.group(1), int(match.group(2)) + 1
            graph._names[stem] = max(graph._names.get(stem, 0), count)
