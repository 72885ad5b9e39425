"""The backward pass over the eager tape: `backward()`, `autograd.backward` and `autograd.grad`.

One walk serves them all. Nodes are visited consumers first; each node's output cotangents
are summed as they arrive, then its tensor hooks run (a hook's result replaces the grad), a
non-leaf that retains its grad receives it, and the node's VJP sends cotangents to its inputs'
producers. A leaf's cotangents are summed over the whole walk before its hooks run and it is
accumulated into `.grad` (or captured, for `autograd.grad`), as PyTorch's AccumulateGrad does.

With `create_graph=True` cotangents are Tensors and every VJP is itself recorded on the tape
(`TapeNode.apply_graph`), so the gradients can be differentiated again."""

from __future__ import annotations

import numpy as np

from .. import _autograd, _host
from .. import _autograd_versions
from .. import _func_vmap_tape as _vmap_tape
from .._autograd import TapeNode, grad_mode
from .._grad_edges import keep_slots
from .._tensor import Tensor, _add
from ._hooks import (leaf_hook_order, run_node_hooks, run_node_prehooks,
                     run_post_accumulate_hooks, run_tensor_hooks)

_autograd_versions.attach(Tensor)   # Tensor._version


def topo_order(roots) -> list:
    """Nodes reachable from `roots`, each after every node that consumes its outputs."""
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(_walked(root)))]
        while stack:
            node, it = stack[-1]
            for target, _ in it:
                if isinstance(target, TapeNode) and id(target) not in seen:
                    seen.add(id(target))
                    stack.append((target, iter(_walked(target))))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _walked(node):
    """The edges a gradient can flow along: for a compiled forward (`reach` known) only those
    some output depends on. A state the traced code read only through `detach()` (a
    stateful RNN's `self.hidden.detach()`) is an input of the program but no gradient goes
    to it, so the walk does not visit its history (which may be a finished trace's, whose
    backward refuses)."""
    reach = node.reach
    if reach is None:
        return node.edges
    used = frozenset().union(*reach)
    return [edge for k, edge in enumerate(node.edges) if k in used]


class _Sum:
    """Adds cotangents: arrays with the cached eager `add` kernel, Tensors with `+` (on the
    tape, for create_graph)."""

    def __init__(self, graph: bool):
        self.graph = graph
        if not graph:
            from .._dispatch import eager_kernel   # NOTE: graphnet._dispatch imports _tensor

            self.add = eager_kernel("add")

    def __call__(self, a, b):
        if a is None:
            return b
        return a + b if self.graph else self.add(a, b)


def _run_hooks(hooks, ct, graph: bool):
    """Tensor hooks in registration order, each seeing the previous one's result. A tensor
    reached with no gradient (None: a Function's backward returned None for it, or another
    output of its node got one) still runs its hooks, with None, as PyTorch's do."""
    if ct is None or graph:
        return run_tensor_hooks(hooks, ct)
    # NOTE: the array goes in a Tensor the hooks share; its value afterwards is the gradient,
    # so a hook that writes in place and returns None (`g.mul_(5)`) counts, as in PyTorch
    return run_tensor_hooks(hooks, Tensor._wrap(ct))._value


def _zeros(shape, dtype, graph: bool):
    z = _host.zeros(shape, dtype)
    return Tensor._wrap(z) if graph else z


def _has_nan(g) -> bool:
    value = g._value if isinstance(g, Tensor) else g
    return value is not None and bool(np.isnan(np.asarray(value)).any())


# The backward walks running now, innermost last (a hook may call backward): [id, callbacks
# to run when it ends]. graphnet.autograd.graph.register_multi_grad_hook counts on both.
_running: list = []
_walks = [0]


def current_backward_id() -> int | None:
    """An id of the backward walk running now (PyTorch's graph task id), None outside one."""
    return _running[-1][0] if _running else None


def queue_callback(fn) -> None:
    """Run `fn()` when the backward walk running now has finished (PyTorch's
    `Variable._execution_engine.queue_callback`)."""
    if not _running:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _running[-1][1].append(fn)


def run_backward(roots, grads, *, retain_graph: bool, create_graph: bool, inputs=None,
                 accumulate: bool = True):
    """Propagate `grads` (per root: an array, or a Tensor with create_graph) from the
    `roots` (Tensors that require grad). With `accumulate`, add into `.grad` of every leaf
    reached (only those in `inputs` when given). Without, return the gradient of each of
    `inputs` (None where none reached it)."""
    _walks[0] += 1
    callbacks: list = []
    _running.append((_walks[0], callbacks))
    try:
        captured = _walk(roots, grads, retain_graph, create_graph, inputs, accumulate)
        while callbacks:     # a callback may queue another
            callbacks.pop(0)()
    finally:
        _running.pop()
    return captured


def _walk(roots, grads, retain_graph, create_graph, inputs, accumulate):
    graph = create_graph
    add = _Sum(graph)
    targets = {}          # id(leaf) or (id(node), index) -> [(position in inputs, tensor)]
    for pos, t in enumerate(inputs or ()):
        key = id(t) if t.grad_fn is None else (id(t.grad_fn), t._oi)
        targets.setdefault(key, []).append((pos, t))
    captured = [None] * len(inputs or ())
    pending: dict = {}
    leaves: dict = {}     # id(leaf) -> [leaf, summed grad], in order of first arrival
    root_nodes = []
    for t, g in zip(roots, grads):
        if t.grad_fn is None:
            entry = leaves.setdefault(id(t), [t, None])
            entry[1] = add(entry[1], g)
            continue
        slot = pending.setdefault(id(t.grad_fn), [None] * len(t.grad_fn.out_avals))
        slot[t._oi] = add(slot[t._oi], g)
        root_nodes.append(t.grad_fn)
    order = topo_order(root_nodes)
    if graph and _vmap_tape.current_mode() is not None:
        _vmap_tape.note_walk(order)    # a vmapped function's walk of an outside graph
    needed = _needed(order, targets) if inputs is not None else None
    for node in order:
        if needed is None or id(node) in needed:
            refusal = node.refusal()
            if refusal is not None:
                raise refusal
    with _autograd.set_grad_enabled(graph):
        for node in order:
            cts = pending.pop(id(node), None)
            if cts is None or (needed is not None and id(node) not in needed):
                continue
            cts = _visit_outputs(node, cts, graph, targets, captured, accumulate, add)
            if needed is not None and not needed[id(node)]:
                continue      # only its own output was asked for
            cts = run_node_prehooks(node, cts, graph)
            reached = _reached_edges(node, cts)
            if all(c is None for c in cts) and not hasattr(node, "materialize"):
                # reached with no gradient at all: an op's backward gives none either (a
                # Function's backward still runs, on zeros unless set_materialize_grads(False))
                results = [None] * len(node.edges)
            else:
                # False: set_materialize_grads(False), or an op of several outputs whose
                # backward leaves out those with no gradient (_autograd.make_vjp)
                if getattr(node, "materialize", True) and (
                        graph or not getattr(node, "partial_cts", False)):
                    cts = [_zeros(s, d, graph) if c is None and s is not None else c
                           for c, (s, d) in zip(cts, node.out_avals)]
                results = node.apply_graph(cts) if graph else node.apply(cts)
                results = run_node_hooks(node, cts, results, graph)
            if grad_mode.anomaly:
                _check_anomaly(node, results)
            if not retain_graph and node.saved is not None and \
                    _autograd.saves_tensors(node.name_, node.saved):
                keep_slots(node)    # next_functions keeps its (None, 0) entries after
                node.saved = None
            for k, ((target, index), g) in enumerate(zip(node.edges, results)):
                if target is None or (reached is not None and k not in reached):
                    continue
                # NOTE: a None gradient still reaches its target, as PyTorch's undefined
                # gradient does: a Function there runs (on zeros), hooks see None
                if isinstance(target, TapeNode):
                    slot = pending.setdefault(id(target), [None] * len(target.out_avals))
                    if g is not None:
                        slot[index] = add(slot[index], g)
                else:
                    entry = leaves.setdefault(id(target), [target, None])
                    if g is not None:
                        entry[1] = add(entry[1], g)
        for leaf, g in leaves.values():
            _finish_leaf(leaf, g, graph, targets, captured, accumulate, inputs)
    return captured


def _reached_edges(node, cts):
    """The edges some output with a cotangent depends on, or None for all of them. A compiled
    forward's outputs may read disjoint inputs: with only `a` of `a, b = model(x)` in the
    loss, the parameters only `b` reads get no gradient (None, as in PyTorch), not zeros
    that weight decay and momentum would then act on."""
    reach = getattr(node, "reach", None)
    if reach is None:
        return None
    return frozenset().union(*(reach[i] for i, c in enumerate(cts) if c is not None))


def _needed(order, targets) -> dict:
    """id(node) -> whether its VJP must run (some asked-for input lies behind it); nodes
    absent are not needed at all. A node whose own output is asked for is needed (False)."""
    needed: dict = {}
    for node in reversed(order):       # producers first
        behind = any((isinstance(t, TapeNode) and needed.get(id(t)) is not None)
                     or (not isinstance(t, TapeNode) and id(t) in targets)
                     for t, _ in node.edges)
        own = any((id(node), i) in targets for i in range(len(node.out_avals)))
        if behind:
            needed[id(node)] = True
        elif own:
            needed[id(node)] = False
    return needed


def _visit_outputs(node, cts, graph, targets, captured, accumulate, add):
    """Hooks, retained grads and captured grads of the non-leaf tensors `node` made."""
    hooks = node.hooks
    for i, ct in enumerate(cts):
        if hooks is not None and i in hooks:
            fns, ref = hooks[i]
            ct = cts[i] = _run_hooks(fns, ct, graph)
            retained = ref() if ref is not None else None
            if retained is not None and ct is not None:   # also for autograd.grad
                _store_grad(retained, ct, graph)
        if ct is None:
            continue
        for pos, tensor in targets.get((id(node), i), ()):
            if not accumulate:
                captured[pos] = ct
            else:      # backward(inputs=[h]) fills h.grad (again if h also retains it)
                _store_grad(tensor, ct, graph)
    return cts


def _finish_leaf(leaf, g, graph, targets, captured, accumulate, inputs) -> None:
    if inputs is not None and id(leaf) not in targets:
        return
    if accumulate and not leaf.requires_grad:
        return      # frozen after the forward (requires_grad_(False)): torch skips it too
    hooks = leaf_hook_order(leaf.__dict__.get("_hooks"))   # AccumulateGrad pre-hooks last
    if hooks:
        g = _run_hooks(hooks, g, graph)
    if g is None:   # reached with no gradient: `.grad` stays, post hooks still run
        if accumulate:
            run_post_accumulate_hooks(leaf)
        return
    if not accumulate:
        for pos, _ in targets[id(leaf)]:
            captured[pos] = g
        return
    _store_grad(leaf, g, graph)
    run_post_accumulate_hooks(leaf)


def _store_grad(t: Tensor, g, graph: bool) -> None:
    """Accumulate `g` into `t.grad` (a new tensor on the tape with create_graph, else the
    same `.grad` tensor updated)."""
    if graph:
        if g.dtype != t.dtype:
            g = g.to(t.dtype)
        t._grad = g if t._grad is None else t._grad + g
        return
    if g.dtype != t._value.dtype:
        g = g.astype(t._value.dtype)
    if t._grad is None:
        t._grad = Tensor._wrap(g)
        return
    grad, total = t._grad, _add(t._grad._value, g)
    held = grad.__dict__
    if "_view" in held or "_views" in held or "_aliases" in held:
        # a `.grad` that shares storage (a view into a flat gradient bucket, as DDP makes
        # them): written in place, so the bucket holds the sum, as PyTorch's AccumulateGrad
        # adds in place (setting the value alone left the bucket at zero, silently)
        with _autograd.no_grad():
            grad._assign(Tensor._wrap(total))
    else:
        grad._value = total


def _check_anomaly(node, results) -> None:
    # PyTorch numbers a node's results by input position, counting inputs that need no grad
    positions = getattr(node, "needs", None) or range(len(results))
    for i, g in zip(positions, results):
        if g is not None and grad_mode.anomaly_check_nan and _has_nan(g):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               f"output.")
