"""graphnet's graph IR: `Value`s produced by `Node`s, collected in a `Graph`.

An equation reads `%relu: f32[128,256] = relu(%linear)  # 1`: output value, its type, the op
(an entry of graphnet's op table), inputs, attributes, and the module path that produced it.
Inputs are the function's arguments (`arg`), captured tensors such as parameters, buffers and
optimizer state (`state`), and numbers re-read on every call (`scalar`, e.g. a learning
rate). Outputs say what each result is for: returned to the user (`out`), written back into a
captured tensor (`state`), a captured tensor's new `.grad` (`grad`), or a tensor the traced
code created and kept (`new`).

Structured ops (`grad`, `cond`, `while_loop`) name their inputs (`node.fields`) and hold
their branches as sub-graphs in their attributes (`node.subgraphs()`). What a pass may do with
a node is a property of its op (`node.opdef.foldable`, `.mergeable`, `.gradient` ...), never
a test of its name."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from graphnet._dtype import short_name
from graphnet._ops import OPS

INPUT_KINDS = ("arg", "state", "scalar")
OUTPUT_ROLES = ("out", "state", "grad", "new")


class Value:
    """A typed SSA value: a graph input or one output of a node."""

    __slots__ = ("name", "shape", "dtype", "node", "index", "kind", "weak_type", "__weakref__")

    def __init__(self, name, shape, dtype, node=None, index=0, kind=None, weak_type=False):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.kind = kind        # for graph inputs: arg | state | scalar
        self.weak_type = weak_type

    @property
    def type_str(self) -> str:
        return f"{short_name(self.dtype)}[{','.join(str(s) for s in self.shape)}]"

    def __repr__(self) -> str:
        return f"%{self.name}"


@dataclass(eq=False)
class Node:
    op: str
    inputs: tuple            # Values or Python literals (numbers, None)
    attrs: dict
    outputs: tuple = ()
    module: str = ""         # dotted module path, '' for top level
    source: str = ""         # user's file:line

    def input_values(self):
        return [v for v in self.inputs if isinstance(v, Value)]

    @property
    def opdef(self):
        """The op-table entry of this node's op (KeyError for an unknown op)."""
        return OPS[self.op]

    @property
    def fields(self) -> dict:
        """The inputs by name, as the op declares them (`grad`: loss, seed, leaves); an op
        without named fields has one, `inputs`."""
        declared = self.opdef.fields
        return declared(self.inputs, self.attrs) if declared else {"inputs": self.inputs}

    def subgraphs(self) -> list:
        """(attribute name, Graph) for each sub-graph attribute (`cond` / `while_loop`
        branches), in attribute order."""
        return [(k, v) for k, v in self.attrs.items() if isinstance(v, Graph)]


@dataclass(eq=False)
class Output:
    role: str                # out | state | grad | new
    target: str              # name of what receives it: output index, input name, label
    value: Value


@dataclass(eq=False)
class Graph:
    name: str = "graph"
    inputs: list = field(default_factory=list)
    nodes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    _names: dict = field(default_factory=dict, repr=False)
    # an output required grad as traced: its gradient may be taken outside the program
    differentiated: bool = field(default=False, repr=False)

    # ---- building ---------------------------------------------------------------------------
    def fresh_name(self, base: str) -> str:
        base = base.replace(" ", "_") or "v"
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def add_input(self, name, shape, dtype, kind, weak_type=False) -> Value:
        assert kind in INPUT_KINDS, kind
        value = Value(self.fresh_name(name), shape, dtype, kind=kind, weak_type=weak_type)
        self.inputs.append(value)
        return value

    def add_node(self, op, inputs, attrs, avals, module="", source="") -> Node:
        node = Node(op, tuple(inputs), dict(attrs), (), module, source)
        base = self.fresh_name(op)
        if len(avals) == 1:
            names = [base]
        else:
            names = [f"{base}[{i}]" for i in range(len(avals))]
        node.outputs = tuple(Value(n, shape, dtype, node, i)
                             for i, (n, (shape, dtype)) in enumerate(zip(names, avals)))
        self.nodes.append(node)
        return node

    def add_output(self, role, target, value) -> None:
        assert role in OUTPUT_ROLES, role
        self.outputs.append(Output(role, str(target), value))

    # ---- queries ----------------------------------------------------------------------------
    def users(self) -> dict:
        """Value -> list of nodes that read it."""
        result = {}
        for node in self.nodes:
            for v in node.input_values():
                result.setdefault(v, []).append(node)
        return result

    def count(self, op: str) -> int:
        return sum(1 for n in self.nodes if n.op == op)

    def differentiates(self) -> bool:
        """True when some node computes gradients (the trace called `backward()`)."""
        return any(n.op in OPS and OPS[n.op].gradient for n in self.nodes)

    # ---- equality: same structure, not the same object --------------------------------------
    def structure(self) -> tuple:
        """Everything that defines the graph as nested tuples: its name; inputs (name, type,
        kind); nodes (op, inputs by name or literal, attributes, output names and types,
        module path, source line); outputs (role, target, value). Sub-graphs of `cond` /
        `while_loop` branches compare by their own structure."""
        def plain(x):
            if isinstance(x, float) and x != x:
                return ("nan",)                   # so a NaN literal equals itself
            return ("graph", x.structure()) if isinstance(x, Graph) else x

        def ref(x):
            return ("%", x.name) if isinstance(x, Value) else (type(x).__name__, plain(x))

        return (self.name,
                tuple((v.name, v.shape, v.dtype, v.kind, v.weak_type) for v in self.inputs),
                tuple((n.op, tuple(ref(x) for x in n.inputs),
                       tuple((k, plain(a)) for k, a in n.attrs.items()),
                       tuple((v.name, v.shape, v.dtype) for v in n.outputs), n.module, n.source)
                      for n in self.nodes),
                tuple((o.role, o.target, o.value.name) for o in self.outputs))

    def __eq__(self, other) -> bool:
        """Structural: `Graph.from_json(g.to_json()) == g`."""
        if not isinstance(other, Graph):
            return NotImplemented
        return self is other or self.structure() == other.structure()

    def __hash__(self) -> int:
        # Consistent with __eq__ (equal graphs have equal names) and stable while passes
        # rewrite the graph in place.
        return hash(self.name)

    def __str__(self) -> str:
        from .printing import graph_to_text

        return graph_to_text(self)

    # ---- other dump formats (compiler/dumps; docs/dumps.md) ----------------------------------
    def to_table(self) -> str:
        """One aligned row per input, node and output."""
        from .dumps.table import to_table

        return to_table(self)

    def to_code(self, fn_name: str = "forward") -> str:
        """Runnable Python source calling graphnet functions."""
        from .dumps.code import to_code

        return to_code(self, fn_name)

    def to_dot(self) -> str:
        """Graphviz source, module scopes as nested clusters."""
        from .dumps.dot import to_dot

        return to_dot(self)

    def to_json(self) -> str:
        """Versioned JSON (schema graphnet.graph); `Graph.from_json` rebuilds an equal graph."""
        from .dumps.json_schema import to_json

        return to_json(self)

    @staticmethod
    def from_json(text: str) -> "Graph":
        """Rebuild a graph from `to_json` text; `str()` of the result equals the original's."""
        from .dumps.json_schema import from_json

        return from_json(text)

    def __repr__(self) -> str:
        return f"<Graph {self.name}: {len(self.inputs)} inputs, {len(self.nodes)} nodes, " \
               f"{len(self.outputs)} outputs>"
