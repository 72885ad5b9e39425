"""Lowering: a `Graph` becomes one Python function over JAX arrays, ready for `jax.jit`.

Ordinary nodes call their op-table kernel, the same kernel eager mode runs; a sub-graph
attribute (a `cond` / `while_loop` branch) reaches the kernel as its own lowering, a function
over arrays. A gradient node (`opdef.gradient`: `grad`) and the forward nodes it
differentiates (those between its leaves and the loss) are evaluated together inside one
`jax.vjp`, so the forward is computed once and its intermediates are shared with the rest of
the program.

With `checks=True`, the op table's value checks (out-of-range indices and labels;
compiler/checks.py) come along: `run.precheck(arrays)` checks the program's inputs on the host
before a call, and checks of values the program computes return their rows last (the nodes
in `run.checks`), with state kept unchanged when one fails."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from graphnet._ops import OPS

from .cancelling import exact_differences
from .checks import HostChecks, RowCollector, guard_outputs, sites_among, split_sites
from .ir import Graph, Node, Value


def kernel_attrs(attrs: dict) -> dict:
    """A node's attributes as its kernel takes them: each sub-graph as its lowering."""
    if not any(isinstance(v, Graph) for v in attrs.values()):
        return attrs
    return {k: lower(v) if isinstance(v, Graph) else v for k, v in attrs.items()}


def eval_node(node: Node, env: dict) -> None:
    source = exact_differences(node, env, eval_node)
    args = [source[x] if isinstance(x, Value) else x for x in node.inputs]
    out = OPS[node.op].impl(*args, **kernel_attrs(node.attrs))
    first = out if OPS[node.op].n_outputs == 1 else out[0]
    if node.outputs and getattr(first, "dtype", None) not in (None, node.outputs[0].dtype) \
            and jax.dtypes.canonicalize_dtype(node.outputs[0].dtype) != first.dtype:
        # (a lowering jitted without graphnet's 64-bit scope gives int32 for int64: JAX's own
        # canonical type there, not a fault)
        raise _dtype_fault(node, first)
    if len(node.outputs) == 1 and OPS[node.op].n_outputs == 1:
        out = (out,)
    for value, array in zip(node.outputs, out):
        shape = getattr(array, "shape", None)
        if shape is not None and tuple(shape) != value.shape:
            raise _shape_fault(node, value, shape)
        env[value] = _pinned(array) if value.dtype in _HALF else array
    if node.op in _REGROUPED and any(not isinstance(x, Value) for x in node.inputs):
        for value in node.outputs:
            env[value] = jax.lax.optimization_barrier(env[value])


# NOTE: the result of arithmetic with a number is kept from XLA's algebraic simplifier, which
# regroups chains of it (`(x + 1e8) - 1e8` became `x`, `1 - x + 1e-7` became `1.0000001 - x`,
# `(x * 2 - 1 + 1) / 2` lost x = 1e-9), each one a different rounding from PyTorch's and
# eager mode's, silently. The barrier stops the rewrite and is gone from the compiled
# program (fusion is unchanged).
_REGROUPED = frozenset(("add", "sub", "mul", "div", "true_divide"))


# NOTE: a half-precision result is pinned to its precision by an explicit rounding in float32.
# XLA-CPU's YNNPACK reduce fusion dropped the pair of converts f32 -> bfloat16 -> f32 before a
# sum, even with excess precision off: `x.bfloat16().float().sum()` compiled summed the
# unrounded values (-327.21 where PyTorch and eager mode give -327.56, about 1e-3 off).
# The rounding of an already-rounded value changes nothing; no rewrite can skip it. Not for
# float16: it was not affected, and reduce_precision flushes its subnormals (float32 holds
# bfloat16's).
_HALF = {np.dtype(jnp.bfloat16)}


def _pinned(array):
    return jax.lax.reduce_precision(array.astype(jnp.float32), 8, 7).astype(array.dtype)


def _shape_fault(node: Node, value: Value, got):
    """The error for a kernel whose result has another shape than the trace recorded (the
    trace's types may come from runtime/shape_store.py's file): refused, never run on."""
    from graphnet._errors import TraceError

    return TraceError(f"lowering {node.op} ({node.source or 'graphnet'}) gave shape "
                      f"{list(got)} where the trace recorded {list(value.shape)}: please "
                      f"report this as a graphnet bug")


def _dtype_fault(node: Node, got):
    """The error for a kernel that gave another dtype than the trace recorded: refused rather
    than guessed (the tracer refuses the known cause, a default dtype changed inside the
    traced code)."""
    from graphnet._errors import TraceError

    return TraceError(f"lowering {node.op} ({node.source or 'graphnet'}) gave {got.dtype} "
                      f"where the trace recorded {node.outputs[0].dtype}: please report this "
                      f"as a graphnet bug")


def straight_line(nodes, inputs, outputs, name: str, checks=None):
    """`fn(*input_arrays) -> tuple(output_arrays)` evaluating `nodes` in order (no grad
    nodes): the body of a hoisted prologue, a per-call main program or one plan kernel.
    With `checks` (check sites, possibly none of them here), the rows of those among `nodes`
    (`fn.checks`) follow the outputs."""
    sites = sites_among(nodes, checks) if checks is not None else []

    def run(*arrays):
        env = dict(zip(inputs, arrays, strict=True))
        rows = RowCollector(sites)
        for node in nodes:
            rows.visit(node, env)
            eval_node(node, env)
        outs = tuple(env[v] for v in outputs)
        return outs + (rows.flags(),) if checks is not None else outs

    run.__name__ = name
    run.checks = tuple(sites)
    return run


@dataclass(eq=False)
class GradRegion:
    """A grad node plus the forward nodes it differentiates, evaluated under one jax.vjp."""

    grad: Node
    forward: list          # nodes, in graph order
    recompute: bool        # True when another region already evaluated some of `forward`

    def run(self, env: dict) -> None:
        import jax

        node = self.grad
        named = node.fields
        root, seed, leaves = named["loss"], named["seed"], list(named["leaves"])
        produced = [v for n in self.forward for v in n.outputs]

        def forward(*leaf_arrays):
            local = dict(env)
            local.update(zip(leaves, leaf_arrays))
            for n in self.forward:
                eval_node(n, local)
            return local[root], [local[v] for v in produced]

        primal, pull, aux = jax.vjp(forward, *[env[v] for v in leaves], has_aux=True)
        cotangent = env[seed] if seed is not None else jnp.ones_like(primal)
        grads = pull(cotangent)
        if not self.recompute:
            env.update(zip(produced, aux))
        for value, g in zip(node.outputs, grads):
            env[value] = g


def _stops_gradient(node: Node) -> bool:
    """A node no gradient flows through: `detach`, comparisons, argmax, an earlier `grad`."""
    return node.op not in OPS or not OPS[node.op].differentiable


def _region_nodes(graph: Graph, grad: Node) -> list:
    """The forward nodes `grad` differentiates: between its leaves and its root, reached from
    the root through nodes a gradient can flow through. A non-differentiable node (a `detach`
    the tracer inserted, say) is evaluated in the region, but what it reads is not."""
    named = grad.fields
    leaves, root = set(named["leaves"]), named["loss"]
    ancestors, stack = set(), [root]
    while stack:
        v = stack.pop()
        node = v.node
        if v in leaves:     # a leaf made by an earlier node (a weight an optimizer updated)
            continue
        if node is not None and node not in ancestors and not node.opdef.gradient:
            ancestors.add(node)
            if not _stops_gradient(node):
                stack.extend(node.input_values())
    depends, region = set(leaves), []
    for n in graph.nodes:
        if n is grad:
            break
        if any(v in depends for v in n.input_values()):
            depends.update(n.outputs)
            if n in ancestors:
                region.append(n)
    return region


def _reads_writes(item) -> tuple:
    """(values an item of the schedule reads from outside itself, values it defines)."""
    if isinstance(item, Node):
        return set(item.input_values()), set(item.outputs)
    nodes = item.forward + [item.grad]
    writes = {v for n in nodes for v in n.outputs}
    return {v for n in nodes for v in n.input_values()} - writes, writes


def schedule(graph: Graph) -> list:
    """Order of evaluation: nodes, with each grad node replaced by its GradRegion. Nodes that
    read region values but sit before the grad node move to just after it. When the region
    itself needs one of those moved values (a second loss that reads weights an optimizer
    step just updated from the first loss's gradients: a GAN's generator step), the forward
    nodes stay where they are and the region recomputes them under `jax.vjp` instead."""
    items: list = list(graph.nodes)
    claimed: set = set()
    for grad in [n for n in graph.nodes if n.opdef.gradient]:
        forward = _region_nodes(graph, grad)
        position = items.index(grad)
        recompute = any(n in claimed for n in forward)
        if not recompute:
            members = set(forward)
            before, deferred, tainted = [], [], {v for n in forward for v in n.outputs}
            for item in items[:position]:
                if isinstance(item, Node) and item in members:
                    continue
                reads, writes = _reads_writes(item)
                if reads & tainted:
                    deferred.append(item)
                    tainted.update(writes)
                else:
                    before.append(item)
            late = set().union(*(_reads_writes(item)[1] for item in deferred))
            recompute = bool(late & _reads_writes(GradRegion(grad, forward, False))[0])
        region = GradRegion(grad, forward, recompute)
        if recompute:
            items[position] = region
            continue
        claimed.update(forward)
        items = before + [region] + deferred + items[position + 1:]
    return items


def lower(graph: Graph, checks: bool = False):
    """Return `run(*input_arrays) -> tuple(output_arrays)` in graph input/output order. With
    `checks`, `run.precheck` checks the inputs (None when there is nothing to check), and
    when a check reads a computed value, `run` returns the rows of those checks last
    (`run.checks`: their nodes) and keeps state outputs unchanged when one fails.
    NOTE: a grad region's nodes are checked from the values it exported to `env`, outside
    the jax.vjp: the checked inputs are integer values that carry no gradient."""
    plan = schedule(graph)
    inputs, outputs = list(graph.inputs), [o.value for o in graph.outputs]
    host, sites = split_sites(graph) if checks else ([], [])

    def run(*arrays):
        env = dict(zip(inputs, arrays))
        rows = RowCollector(sites)
        for item in plan:
            if isinstance(item, Node):
                rows.visit(item, env)
                eval_node(item, env)
            else:
                item.run(env)
                for node in item.forward:
                    rows.visit(node, env)
        outs = tuple(env[v] for v in outputs)
        if not sites:
            return outs
        flags = rows.flags()
        return guard_outputs(graph, env, outs, flags) + (flags,)

    run.__name__ = graph.name
    run.checks = tuple(sites)
    run.precheck = HostChecks(graph, host) if host else None
    return run
