"""Value checks inside a custom autograd.Function's backward, in compiled programs.

A `custom_function` node's kernel is a `jax.custom_vjp` whose backward rule runs the user's
`backward` on JAX's tracers (graphnet/autograd/_function_static.py). An index or label that
backward reads (`g[idx]` with a saved `idx`) is a value inside the program, and the rule
can return nothing but cotangents, so no check row can leave it: JAX would clamp a bad
index where PyTorch raises IndexError. Instead, the node is a check site of its own
(compiler/checks.py) whenever the program runs its backward: the site runs the user's
backward a second time, beside the differentiation, on the same saved tensors, and keeps
only the rows of the checks it meets (XLA drops the unused gradient). Its row is
`[k, *facts]`: k = 1 + the index of the first failing checked op among those the backward
runs, 0 when all pass.

The backward runs when a `vjp` node computes it (autograd.grad, func.grad, create_graph;
its cotangents are that node's inputs) or when the node is in the forward of a `grad` node
(loss.backward(); inside the region's jax.vjp, so the site sees zero cotangents). In that
last case, indices computed from the cotangents cannot be checked, and the program is
refused, as checked ops in cond/while_loop branches are (`checks.refuse_branch_checks`)."""

from __future__ import annotations

import weakref

import jax
import jax.numpy as jnp
from graphnet._errors import TraceError
from graphnet._ops._checks import check_row, row_error
from graphnet._x64 import x64

from .ir import Graph, Node, Value

# site node -> [(opdef, attrs)]: the checked ops its backward runs, in order
_CALLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def performed(node: Node) -> tuple:
    """(op, inputs, attrs, cotangents) of the op whose computation `node` performs: its own,
    or for a `vjp` node the op its `fn` differentiates, with that op's inputs (the node's
    first `n_primals` inputs) and output cotangents (the rest); a `vjp` of a `vjp` (a double
    backward) unwraps again. Cotangents are None for a node that is no `vjp`."""
    op, inputs, attrs, cts = node.op, list(node.inputs), node.attrs, None
    while op == "vjp" and getattr(attrs.get("fn"), "op", None) is not None:
        fn, n = attrs["fn"], attrs["n_primals"]
        op, inputs, attrs, cts = fn.op, inputs[:n], dict(fn.attrs), inputs[n:]
    return op, inputs, attrs, cts


def backward_sites(graph: Graph) -> list:
    """The nodes of `graph` that run a custom Function's backward reading indices or labels
    that are program values, in graph order; TraceError for one that cannot be checked."""
    from .lower import _region_nodes   # (lower imports checks, which imports this module)

    in_regions = {n for grad in graph.nodes if grad.opdef.gradient
                  for n in _region_nodes(graph, grad)}
    sites = []
    for node in graph.nodes:
        op, inputs, attrs, cts = performed(node)
        if op != "custom_function" or (cts is None and node not in in_regions):
            continue
        calls = _checked_calls(node, attrs["spec"], inputs, cts)
        if calls:
            _CALLS[node] = calls
            sites.append(node)
    return sites


def _checked_calls(node: Node, spec, inputs: list, cts) -> list:
    """(opdef, attrs) of each checked op the backward runs on program values, found by
    running it once on abstract values; TraceError when one reads the cotangents and the
    site cannot see them."""
    found: list = []
    a = [_abstract(v) for v in inputs]
    c = [_abstract(v) for v in cts] if cts is not None else a[:spec.n_out]

    def rows(a, c):
        found.clear()
        spec.backward(a, a[:spec.n_out], list(c), found)
        return [check_row(opdef.check, arrays, kw) for opdef, arrays, kw in found]

    try:
        with x64():
            jaxpr = jax.make_jaxpr(rows)(a, c)
    except Exception:   # noqa: BLE001 — a backward that raises: the real call raises too
        return []
    calls = [(opdef, kw) for opdef, _, kw in found]
    if calls and cts is None and _reads_cotangents(jaxpr, len(a), len(c)):
        raise _refusal(node, spec.cls.__name__, calls)
    return calls


def _abstract(v):
    return jax.ShapeDtypeStruct(v.shape, v.dtype) if isinstance(v, Value) else v


def _reads_cotangents(closed, n_inputs: int, n_cts: int) -> bool:
    from graphnet.autograd._graph import _dependence

    jaxpr = closed.jaxpr
    start = [frozenset()] * len(jaxpr.invars)
    start[-n_cts:] = [frozenset([True])] * n_cts if n_cts else []
    return any(_dependence(jaxpr, start))


def backward_row(node: Node, env: dict):
    """The row of backward site `node`, from its input values in `env` (see the module)."""
    op, inputs, attrs, cts = performed(node)
    spec = attrs["spec"]
    a = [env[x] if isinstance(x, Value) else x for x in inputs]
    c = [env[x] if isinstance(x, Value) else x for x in cts] if cts is not None else \
        [jnp.zeros(x.shape, x.dtype) for x in a[:spec.n_out]]
    found: list = []
    with x64():
        spec.backward(a, a[:spec.n_out], c, found)
        assert len(found) == len(_CALLS[node]), "a custom backward ran other checked ops"
        rows = jnp.stack([check_row(opdef.check, arrays, kw) for opdef, arrays, kw in found])
        bad = rows[:, 0] != 0
        k = jnp.argmax(bad)
        row = jnp.concatenate([(k + 1)[None].astype(jnp.int64), rows[k, 1:]])
        return jnp.where(bad.any(), row, jnp.zeros_like(row))


def backward_error(node: Node, row) -> Exception | None:
    """The exception a backward site's row stands for, or None."""
    k = int(row[0])
    if not k:
        return None
    opdef, attrs = _CALLS[node][k - 1]
    return row_error(opdef.check, [1, *row[1:]], attrs)


def backward_name(node: Node) -> str:
    """How an error names a backward site: the Function and the op it ran."""
    spec = performed(node)[2]["spec"]
    ops = ", ".join(f"`{opdef.name}`" for opdef in dict.fromkeys(o for o, _ in _CALLS[node]))
    return f"{spec.cls.__name__}.backward ({ops})"


def _refusal(node: Node, name: str, calls: list) -> TraceError:
    where = f" (called at {node.source})" if node.source else ""
    listed = ", ".join(f"`{opdef.name}`" for opdef in dict.fromkeys(o for o, _ in calls))
    return TraceError(
        f"{name}.backward{where} runs {listed} on indices or labels computed from its "
        f"incoming gradient, under loss.backward() in a compiled program: PyTorch raises "
        f"IndexError on a bad one, but the program cannot check values that exist only "
        f"inside the differentiation, so it could silently clamp a bad index. Take the "
        f"gradient with graphnet.autograd.grad (checked), index with tensors saved in "
        f"`forward`, run this code dynamically, or compile with checks=False to accept "
        f"JAX's clamping.")
