"""`to_code(graph)`: the graph as a runnable Python function over graphnet tensors.

    import graphnet

    def forward(input, p_0_weight, p_0_bias, ...):
        linear = graphnet.nn.functional.linear(input, p_0_weight, p_0_bias)  # 0
        ...

Arguments come in graph input order (args, captured state, scalars: what `lower(graph)` takes).
Ops with a public graphnet function that records exactly that op call it (the op table's `dump`
name, guarded in public_names.py); the rest call `graphnet._dispatch.dispatch("op", ...)`. A
gradient node (`opdef.gradient`: `grad`) becomes a nested function holding the forward nodes it
differentiates, passed to `run_grad`, which runs graphnet's eager autograd. Results: the
returned values; when the graph also writes state, grads or new tensors, a second item maps
role -> target -> value."""

from __future__ import annotations

import base64
import keyword
import math
import re

import numpy as np

from ..ir import Graph, Node, Value
from ..lower import _region_nodes
from .json_schema import GraphJSONError
from .public_names import public_function

# names the generated module imports or defines (`lower` and `from_json` run a cond/while
# region): an argument of the same name would hide them
RESERVED = {"graphnet", "np", "ml_dtypes", "base64", "ConstantValue", "run_grad", "lower",
            "from_json"}


def run_grad(fn, leaves, cotangent=None) -> tuple:
    """d(fn(*leaves))/d(leaf) for each leaf by graphnet's eager autograd: what a graph's `grad`
    node computes. A leaf the result does not depend on differentiably gets zeros, as in the
    compiled program (jax.vjp)."""
    import graphnet

    fresh = [leaf.detach().requires_grad_() for leaf in leaves]
    with graphnet.enable_grad():
        root = fn(*fresh)
    root.backward(cotangent)
    return tuple(t.grad if t.grad is not None else graphnet.zeros_like(t) for t in fresh)


class _Names:
    """Python identifiers for value names: `0.weight` -> `p_0_weight`, `grad[1]` -> `grad_1`."""

    def __init__(self, reserved=()):
        self.of: dict = {}
        self.used = set(RESERVED) | set(reserved)

    def fresh(self, name: str) -> str:
        ident = re.sub(r"\W", "_", name).strip("_") or "v"
        if ident[0].isdigit():
            ident = "v_" + ident
        if keyword.iskeyword(ident):
            ident += "_"
        candidate, i = ident, 1
        while candidate in self.used:
            candidate, i = f"{ident}_{i}", i + 1
        self.used.add(candidate)
        return candidate

    def define(self, value: Value, prefix: str = "") -> str:
        self.of[value] = self.fresh(prefix + value.name)
        return self.of[value]


def literal(x, names: _Names, needs: set) -> str:
    """Python source for a node input or attribute value."""
    if isinstance(x, Value):
        return names.of[x]
    if isinstance(x, Graph):   # a cond / while_loop branch: its lowering, from its JSON
        needs.add("subgraphs")
        try:
            text = x.to_json()
        except GraphJSONError as err:   # a gradient node in a vmap body holds its VJP
            raise NotImplementedError(
                f"to_code: the sub-graph {x.name!r} cannot be written as code, since it is "
                f"written through its JSON ({err}); the text dump shows it") from None
        return f"lower(from_json({text!r}))"
    if isinstance(x, np.dtype):
        needs.add("np")
        return f"np.dtype({_scalar_type(x.type, needs)})"
    if isinstance(x, type) and issubclass(x, np.generic):
        return _scalar_type(x, needs)
    if type(x).__name__ == "ConstantValue":
        return _constant(x, needs)
    if isinstance(x, np.generic):
        needs.add("np")
        return repr(x)  # numpy >= 2 writes np.float32(0.5)
    if isinstance(x, float) and not math.isfinite(x):
        return f"float({repr(x)!r})"
    if isinstance(x, tuple):
        inner = ", ".join(literal(v, names, needs) for v in x)
        return f"({inner},)" if len(x) == 1 else f"({inner})"
    if isinstance(x, list):
        return "[" + ", ".join(literal(v, names, needs) for v in x) + "]"
    text = repr(x)
    if text.startswith("<"):   # not Python (a custom Function's backward): the code would not run
        raise NotImplementedError(f"to_code: an op attribute {text} cannot be written as "
                                  f"Python code; the text dump shows the graph")
    return text


def _scalar_type(t: type, needs: set) -> str:
    # NOTE: bfloat16 & co. come from ml_dtypes; numpy does not know them by name.
    if t.__module__.split(".")[0] == "numpy":
        needs.add("np")
        return f"np.{t.__name__}"
    needs.add("ml_dtypes")
    return f"ml_dtypes.{t.__name__}"


def _constant(value, needs: set) -> str:
    """A folded constant (graphnet._ops.constant.ConstantValue): its values when few and
    plain, else its exact bytes."""
    needs.update({"np", "ConstantValue"})
    array, dtype = value.array(), f"np.dtype({_scalar_type(value.dtype.type, needs)})"
    plain = array.dtype.kind in "biu" or (array.dtype.kind == "f" and np.isfinite(array).all())
    if plain and array.size <= 8 and array.dtype.type.__module__ == "numpy":
        return f"ConstantValue(np.array({array.tolist()!r}, dtype={dtype}))"
    needs.add("base64")
    data = base64.b64encode(value.data).decode("ascii")
    return f"ConstantValue(np.frombuffer(base64.b64decode({data!r}), {dtype})" \
           f".reshape({tuple(array.shape)!r}))"


class _Writer:
    def __init__(self, graph: Graph, fn_name: str):
        self.graph, self.fn_name = graph, fn_name
        self.names = _Names([fn_name])
        self.needs: set = set()
        self.lines: list = []

    def call(self, node: Node, indent: str, rerun: bool = False) -> None:
        """One op call; `rerun` repeats an already named node (inside a grad function)."""
        entry = public_function(node)
        args = [literal(x, self.names, self.needs) for x in node.inputs]
        attrs = {k: v for k, v in node.attrs.items() if entry is None or k not in entry.drop}
        args += [f"{k}={literal(v, self.names, self.needs)}" for k, v in attrs.items()]
        if entry is None:
            target = "graphnet._dispatch.dispatch"
            args.insert(0, repr(node.op))
        else:
            target = entry.function
        outs = [self.names.of[v] if rerun else self.names.define(v) for v in node.outputs]
        lhs = outs[0] if len(outs) == 1 and _single(node) else ", ".join(outs) + \
            ("," if len(outs) == 1 else "")
        comment = f"  # {node.module}" if node.module else ""
        self.lines.append(f"{indent}{lhs} = {target}({', '.join(args)}){comment}")

    def grad(self, node: Node, indent: str) -> None:
        named = node.fields
        root, seed, leaves = named["loss"], named["seed"], list(named["leaves"])
        region = _region_nodes(self.graph, node)
        if any(n.opdef.gradient for n in region):
            raise NotImplementedError(f"to_code: %{node.outputs[0].name} differentiates "
                                      f"through another grad node (a higher-order gradient); "
                                      f"code dumps do not support that yet")
        fn = self.names.fresh("grad_fn")
        outer = self.names.of
        leaf_names = [outer[v] for v in leaves]
        self.lines.append(f"{indent}# grad: d({outer[root]})/d({', '.join(leaf_names)}), "
                          f"re-running the forward nodes in between under eager autograd")
        self.lines.append(f"{indent}def {fn}({', '.join(leaf_names)}):")
        # NOTE: the region's nodes ran earlier in the body; re-running them under the same
        # names shadows those inside the nested function, so it reads like the forward.
        for inner in region:
            self.call(inner, indent + "    ", rerun=True)
        self.lines.append(f"{indent}    return {outer[root]}")
        cotangent = f", cotangent={outer[seed]}" if seed is not None else ""
        outs = [self.names.define(v) for v in node.outputs]
        lhs = ", ".join(outs) + ("," if len(outs) == 1 else "")
        self.lines.append(f"{indent}{lhs} = run_grad({fn}, ({', '.join(leaf_names)}"
                          f"{',' if len(leaves) == 1 else ''}){cotangent})")
        self.needs.add("run_grad")

    def write(self) -> str:
        graph = self.graph
        params = [self.names.define(v, "p_" if v.kind == "state" else "")
                  for v in graph.inputs]
        body_start = len(self.lines)
        for node in graph.nodes:
            (self.grad if node.opdef.gradient else self.call)(node, "    ")
        body = self.lines[body_start:]
        header = ["import graphnet"]
        if "base64" in self.needs:
            header.insert(0, "import base64")
        if "ml_dtypes" in self.needs:
            header.append("import ml_dtypes")
        if "np" in self.needs:
            header.append("import numpy as np")
        if "ConstantValue" in self.needs:
            header.append("from graphnet._ops.constant import ConstantValue")
        if "run_grad" in self.needs:
            header.append("from graphnet.compiler.dumps.code import run_grad")
        if "subgraphs" in self.needs:
            header += ["from graphnet.compiler.dumps import from_json",
                       "from graphnet.compiler.lower import lower"]
        signature = f"def {self.fn_name}({', '.join(params)}):"
        return "\n".join(header + ["", "", signature] + self._docstring() + body
                         + self._returns()) + "\n"

    def _docstring(self) -> list:
        graph, of = self.graph, self.names.of
        lines = [f'    """Graph `{graph.name}` as graphnet calls (generated by to_code).', ""]
        titles = {"arg": "Arguments:", "state": "State inputs (parameters, buffers, optimizer "
                  "state), name in the graph:", "scalar": "Scalar inputs (Python numbers "
                  "re-read on every call), name in the graph:"}
        for kind, title in titles.items():
            values = [v for v in graph.inputs if v.kind == kind]
            if values:
                lines.append(f"    {title}")
                lines += [f"        {of[v]}: {v.type_str}" + (f"  <- {v.name}" if kind != "arg"
                                                               else "") for v in values]
        if any(o.role != "out" for o in graph.outputs):
            lines.append("    Returns (outputs, updates): updates[role][target] is a new value "
                         "for a captured")
            lines.append("    tensor (state), its new .grad (grad) or a tensor the code "
                         "created and kept (new).")
        return lines + ['    """']

    def _returns(self) -> list:
        of, outputs = self.names.of, self.graph.outputs
        outs = [of[o.value] for o in outputs if o.role == "out"]
        returned = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + \
            ("," if len(outs) == 1 else "") + ")"
        side = [o for o in outputs if o.role != "out"]
        if not side:
            return [f"    return {returned}"]
        lines = [f"    return {returned}, {{"]
        for role in ("state", "grad", "new"):
            writes = [o for o in side if o.role == role]
            if writes:
                lines.append(f"        {role!r}: {{")
                lines += [f"            {o.target!r}: {of[o.value]}," for o in writes]
                lines.append("        },")
        return lines + ["    }"]


def _single(node: Node) -> bool:
    from graphnet._ops import OPS

    return OPS[node.op].n_outputs == 1


def to_code(graph: Graph, fn_name: str = "forward") -> str:
    """Python source defining `fn_name(*graph inputs)`; `exec` it and call it with tensors
    (Python numbers for scalar inputs) to run the graph eagerly."""
    if not fn_name.isidentifier() or keyword.iskeyword(fn_name) or fn_name in RESERVED:
        raise ValueError(f"to_code: fn_name must be a Python identifier other than "
                         f"{sorted(RESERVED)}, got {fn_name!r}")
    return _Writer(graph, fn_name).write()
