"""`graphnet.autograd.grad` while tracing (the tracer's `grad` hook, graphnet/_mode.py).

No tape exists inside a trace, so the walk runs over the graph itself: from the outputs back
through the gradient edges the tracer recorded (`Tracer.grad_edges`, what eager mode's tape
would hold), each node's VJP is recorded as one `vjp` node (graphnet/autograd/_graph.py)
whose kernel is `jax.vjp` of the node's own kernel. With `create_graph=True` those nodes get
gradient edges of their own, so a later `backward()` (a `grad` node, lowered under one
`jax.vjp`) differentiates through them: a WGAN-GP gradient penalty compiles to PyTorch's
numbers. Without it they are recorded under no_grad and their results are plain tensors.
Under `detect_anomaly()` each VJP's results pass through `anomaly_checked`, a program check
that raises eager mode's "Function 'SqrtBackward0' returned nan values" after the call, and
`loss.backward()` takes this walk instead of one `grad` node (autodiff.record_backward)."""

from __future__ import annotations

from graphnet import _autograd, _dtype
from graphnet._dispatch import dispatch
from graphnet._errors import TraceError
from graphnet._factories import zeros
from graphnet._mode import TracedNode
from graphnet._tensor import Tensor
from graphnet._no_derivative import without_derivative
from graphnet.autograd._graph import ONCE_DIFFERENTIABLE, op_vjp, reaching
from graphnet.autograd._hooks import guard_hooks, run_leaf_hooks

from .autodiff import _ancestors, _default_edges, carrying
from .autodiff_data_swap import swapped_primals
from .autodiff_leaves import leaf_values, refuse_shared_leaf_values
from .autodiff_versions import refuse_modified
from .ir import Value


def _refuse(node) -> None:
    if node.subgraphs() and node.opdef.reverse_mode and not _checked_inside(node):
        return      # (a cond, a vmap) its VJP is jax.vjp of its kernel over the lowered
        # sub-graphs (`_vjp_attrs`)
    if node.opdef.gradient or node.subgraphs() or not node.opdef.reverse_mode:
        raise TraceError(
            f"graphnet.autograd.grad inside graphnet.compile cannot differentiate through "
            f"`{node.op}` (at {node.source or 'unknown line'}): a gradient of a gradient node, "
            f"of a while_loop, or of a cond branch or vmap that reads labels or indices (they "
            f"would go unchecked) is not supported in static mode. Run this code "
            f"uncompiled, or keep `{node.op}` out of the differentiated path.")


def _checked_inside(node) -> bool:
    """Whether a sub-graph of `node` reads labels or indices: its VJP node holds the lowered
    sub-graphs, where no check finds them (a bad label would be clamped silently)."""
    from .checks import _read, check_sites

    # NOTE: a site whose check reads no traced value (`flat[0]`, jacrev's rows by Python
    # int) has nothing to go unchecked: counted, `func.grad` of a `vmap(jacrev(f))` loss
    # (a PINN's) was refused
    return any(isinstance(x, Value) for _, sub in node.subgraphs()
               for site in check_sites(sub.nodes) for x in _read(site))


def _vjp_attrs(node) -> tuple:
    """The attributes a `vjp` node's kernel takes: a sub-graph as its lowering."""
    from .lower import kernel_attrs

    return tuple(kernel_attrs(node.attrs).items())


def _wrap(tracer, value, requires_grad: bool):
    marker = TracedNode("vjp", [(value.shape, value.dtype)], tracer.graph.name) \
        if requires_grad else None
    t = Tensor._wrap(value, marker)
    tracer.on_tensor_created(t)
    return t


def use_graph(tracer, roots, retain_graph, stop=frozenset(), targets=None) -> None:
    """A backward() or autograd.grad through the traced graph from `roots` (Values): raise
    PyTorch's error when it reaches a node an earlier backward without `retain_graph` freed,
    and free what this one reaches unless it retains the graph (eager mode's rule,
    `_autograd.saves_tensors`). `stop`: the values of `autograd.grad`'s inputs, whose own
    history it does not run (first-order MAML's `grad(loss, fast)` left `fast`'s usable).
    `targets`: the values `autograd.grad` differentiates for (None: every leaf): as
    PyTorch's engine, it runs, and so frees, only the nodes on a path to one of them (ANIL's
    inner `grad(loss, head)` left the body's features usable for the next inner step)."""
    # NOTE: only nodes a gradient runs through: a value made without gradient edges (an
    # optimizer's update, an op under no_grad) is a leaf to the tape, and freeing its node
    # made a third forward/backward after `opt.step()` raise (MCD's training step)
    values = set().union(*(_ancestors(r, tracer.grad_edges, stop) for r in roots))
    if targets is not None:
        values &= _reaching_targets(tracer, targets)
    nodes = {v.node for v in values
             if v.node is not None and tracer.grad_edges.get(v.node, True)}
    # NOTE: kept on the tracer: one trace is one forward, as one tape is eagerly.
    freed = tracer.__dict__.setdefault("freed_nodes", set())
    if nodes & freed:
        raise _autograd.freed_error()
    if not retain_graph:
        freed.update(n for n in nodes if _saves_tensors(n))


def _reaching_targets(tracer, targets) -> set:
    """The values of the traced graph whose history, through gradient edges, reaches one of
    `targets`: those a gradient for the targets runs through."""
    reached = set(targets)
    for node in tracer.graph.nodes:    # in the order they were recorded
        chosen = tracer.grad_edges.get(node)
        chosen = _default_edges(node) if chosen is None else carrying(node, chosen)
        if any(node.inputs[i] in reached for i in chosen if isinstance(node.inputs[i], Value)):
            reached.update(node.outputs)
    return reached


def _saves_tensors(node) -> bool:
    """Whether a backward without retain_graph frees what `node` keeps. A custom Function
    frees what its `ctx.save_for_backward` saved, nothing else: one that keeps only Python
    values (`ctx.c = 3.0`) or tensors as attributes can be backpropagated again, as in
    PyTorch."""
    if node.op == "custom_function":
        return any(slot[0] not in ("attr", "tree") for slot in node.attrs["spec"].saved_slots)
    return _autograd.saves_tensors(node.op, node.inputs)


def reached_leaves(tracer, tensors) -> list:
    """The tensors that require grad and have no history in the trace which `tensors` reach
    through gradient edges: leaves, and captured tensors with history from before the trace
    (a `torch.func` transform asks whether its result depends on anything but its own
    inputs, `_func_tape.reaches_outside`)."""
    roots = [tracer.value_of(t) for t in tensors if t.requires_grad]
    reachable = set().union(*(_ancestors(r, tracer.grad_edges) for r in roots))
    return _leaves(tracer, roots, reachable) + [
        rec.tensor for rec in tracer.lifted.values()
        if rec.history[0] is not None and rec.placeholder in reachable]


def _leaves(tracer, roots, reachable=None) -> list:
    """The leaf tensors that require grad and that `roots` reach (record_backward's rule)."""
    if reachable is None:
        reachable = set().union(*(_ancestors(r, tracer.grad_edges) for r in roots))
    leaves, seen = [], set()
    for t in [rec.tensor for rec in tracer.lifted.values()] + [r() for r in tracer.created]:
        if t is None or not t.requires_grad or t.grad_fn is not None or id(t) in seen:
            continue
        if any(v in reachable for v in leaf_values(tracer, t)):
            seen.add(id(t))
            leaves.append(t)
    return leaves


def _targets(tracer, t) -> tuple:
    """The values whose gradients sum to `t`'s: a leaf given `.data = other` after the
    forward read it is reached through its old values too."""
    current = tracer.value_of(t)
    if t.grad_fn is not None:
        return (current,)
    return tuple(leaf_values(tracer, t))


def traced_grad(tracer, outputs, inputs, seeds, create_graph: bool,
                retain_graph: bool) -> list:
    """The gradient of each of `inputs` (Tensors; None where unused), recorded in the graph.
    `inputs` None: every leaf that requires grad and the outputs reach, as (leaf, grad)."""
    roots = [tracer.value_of(o) for o in outputs]
    stop = frozenset() if inputs is None else frozenset(
        tracer.value_of(t) for t in inputs if t.grad_fn is not None)
    use_graph(tracer, roots, retain_graph, stop, None if inputs is None else {
        v for t in inputs for v in _targets(tracer, t)})
    if inputs is None:
        inputs = _leaves(tracer, roots)
        pairs = True
    else:
        pairs = False
    leaves = [t for t in inputs if t.grad_fn is None]
    guard_hooks(leaves)
    targets = [_targets(tracer, t) for t in inputs]
    reachable = set().union(*(_ancestors(r, tracer.grad_edges) for r in roots))
    refuse_shared_leaf_values(tracer, reachable)
    refuse_modified(tracer, reachable)
    swapped = swapped_primals(tracer, reachable)
    grads = _walk(tracer, outputs, targets, seeds, create_graph, swapped)
    with _autograd.set_grad_enabled(create_graph):
        grads = [run_leaf_hooks(t, g) if g is not None and t.grad_fn is None else g
                 for t, g in zip(inputs, grads)]
    return list(zip(inputs, grads)) if pairs else grads


def _walk(tracer, outputs, targets, seeds, create_graph: bool, swapped=None) -> list:
    """The gradient of each of `targets` (tuples of Values, whose gradients sum), from one
    VJP node per op; `swapped` ({node: {input index: Value}}, autodiff_data_swap.py): the
    primals a node's backward reads other than its inputs (new values after `.data =`)."""
    swapped = swapped or {}
    cts: dict = {}
    for out, seed in zip(outputs, seeds):
        v = tracer.value_of(out)
        cts[v] = seed if v not in cts else cts[v] + seed
    checks_nan = _autograd.grad_mode.anomaly and _autograd.grad_mode.anomaly_check_nan
    with _autograd.set_grad_enabled(create_graph):
        for node in reversed(list(tracer.graph.nodes)):
            if not any(o in cts for o in node.outputs):
                continue
            edges = tracer.grad_edges.get(node)
            edges = tuple(_default_edges(node) if edges is None else edges)
            if not edges:
                continue
            _refuse(node)
            # an output no gradient reached is left out of a several-output op's VJP (None,
            # _autograd.make_vjp), as jax.vjp's symbolic zero: slogdet's unused logabsdet's
            # zeros times the inverse of a singular matrix made the gradient NaN
            partial = not create_graph and len(node.outputs) > 1
            out_cts = [cts.get(o) if o in cts else None if partial else
                       zeros(*o.shape, dtype=_dtype.from_np(o.dtype)) for o in node.outputs]
            fn = op_vjp(node.op, _vjp_attrs(node), edges)
            # a gradient of this gradient reaches only the inputs the VJP reads (not a
            # linear's bias: PyTorch leaves its .grad None), see autograd/_graph.reaching
            graph_of = reaching(fn, node.inputs, out_cts) if create_graph \
                and not _constant_backward(node, out_cts) else ()
            if create_graph and _reads_outputs(node):
                # a saved output's own gradient runs through the node's rule again, to the
                # arguments: a path the VJP's program does not show (its values are the
                # outputs' inputs), see _function_static.py
                graph_of = frozenset(graph_of) | frozenset(carrying(node, edges))
            read = swapped.get(node, {})
            primals = [_wrap(tracer, read.get(i, x), i in edges and i in graph_of)
                       if isinstance(x, Value) else x for i, x in enumerate(node.inputs)]
            grads = dispatch("vjp", *primals, *out_cts, fn=fn, n_primals=len(primals))
            if create_graph and node.op in ONCE_DIFFERENTIABLE:   # as eagerly: raises
                grads = [without_derivative(g, [*primals, *out_cts],
                                            ONCE_DIFFERENTIABLE[node.op]) for g in grads]
            if checks_nan and not create_graph:
                # NOTE: the checked identity is not differentiable, so a gradient that must
                # itself carry a graph (create_graph) goes unchecked
                name = _autograd.backward_name(node.op)
                grads = [dispatch("anomaly_checked", g, producer=name, index=i)
                         for i, g in zip(edges, grads)]
            flows = carrying(node, edges, [k for k, o in enumerate(node.outputs) if o in cts])
            for i, g in zip(edges, grads):
                if i not in flows:   # a None from a custom backward: no gradient
                    continue
                x = node.inputs[i]
                cts[x] = g if x not in cts else cts[x] + g
    return [_sum([cts[v] for v in values if v in cts]) for values in targets]


def _constant_backward(node, out_cts) -> bool:
    """A `@once_differentiable` backward given gradients that require none: it ran under
    no_grad in PyTorch, so its result is a constant (a backward through it alone raises
    "does not require grad", as there)."""
    return node.op == "custom_function" and getattr(
        node.attrs["spec"].cls.backward, "once_differentiable", False) and not any(
        getattr(c, "requires_grad", False) for c in out_cts)


def _reads_outputs(node) -> bool:
    """A custom Function's node whose backward reads outputs it saved."""
    return node.op == "custom_function" and \
        any(slot[0] == "out" for slot in node.attrs["spec"].saved_slots)


def _sum(grads: list):
    if not grads:
        return None
    total = grads[0]
    for g in grads[1:]:
        total = total + g
    return total
