"""`loss.backward()` while tracing: one `grad` node (graphnet/_ops/control.py; fields `loss`,
`seed`, `leaves`) whose outputs are d(loss)/d(leaf) for every leaf that requires grad and that
the loss depends on. Lowering turns it into `jax.vjp` of the forward sub-graph between those
leaves and the loss (see lower.py)."""

from __future__ import annotations

from graphnet import _autograd, _dispatch
from graphnet._errors import TraceError
from graphnet._ops import OPS
from graphnet._ops.control import grad_inputs
from graphnet._tensor import Tensor
from graphnet.autograd._hooks import guard_hooks, run_leaf_hooks, run_post_accumulate_hooks

from . import _source
from .autodiff_data_swap import swapped_primals
from .autodiff_leaves import leaf_values, refuse_shared_leaf_values
from .autodiff_versions import refuse_modified
from .ir import Value


def _default_edges(node) -> list:
    """Gradient edges of a node the tracer did not record itself (a `cond` / `while_loop`
    node): every input its op differentiates."""
    if not OPS[node.op].differentiable:
        return []
    skip = OPS[node.op].nondiff_inputs
    return [i for i, x in enumerate(node.inputs) if isinstance(x, Value) and i not in skip]


def _ancestors(root: Value, edges: dict | None = None, stop=frozenset()) -> set:
    """Values the root depends on through gradient edges only. `edges` (node -> input
    indices, the tracer's record) says which inputs each op was differentiated through when
    it ran, as eager mode's tape would have recorded it: a leaf seen only through `x < y`, an
    index input, a `no_grad()` block, a `.detach()` or while its `requires_grad` was False
    gets no grad, not a zero grad. `stop`: values not walked past (nor counted), the inputs
    of an `autograd.grad`."""
    edges = edges or {}
    seen, stack = set(), [root]
    while stack:
        v = stack.pop()
        if v in seen or v in stop:
            continue
        seen.add(v)
        node = v.node
        if node is None:
            continue
        chosen = edges.get(node)
        # the outputs reached so far: the last one's visit has them all
        chosen = _default_edges(node) if chosen is None else carrying(
            node, chosen, [k for k, o in enumerate(node.outputs) if o in seen])
        stack.extend(node.inputs[i] for i in chosen if isinstance(node.inputs[i], Value))
    return seen


def carrying(node, chosen, given=None) -> tuple:
    """The gradient edges `chosen` of `node` a gradient can flow back along. A custom
    Function's node (`custom_function`) also has edges to what its forward saved and to
    outputs that are inputs, which only a gradient of its VJP follows (a double backward,
    through grad_walk's `vjp` nodes), and to arguments its backward returns None for: none
    of them carries its gradient. A leaf reached only through them gets no `.grad` (None,
    as eagerly), not zeros. `given`: the node's outputs a gradient reaches (None: all), which
    a backward after `ctx.set_materialize_grads(False)` sees as None for the others."""
    if node.op != "custom_function":
        return chosen
    flows = node.attrs["spec"].carrying(node.inputs, given)
    return tuple(i for i in chosen if i in flows)


def _cut_untaped_paths(tracer, root: Value, leaf_values: set) -> None:
    """Make the graph's structure say what the tape says. Lowering differentiates the forward
    nodes between the leaves and the loss with `jax.vjp`, which follows every data edge; where
    a node read a leaf-dependent float value without recording a gradient edge (under
    `no_grad()`, through a `.detach()` alias, while `requires_grad` was False), its input is
    replaced by `detach(value)`, which lowers to `lax.stop_gradient`. Inserting it is always
    sound: that edge carries no gradient in eager mode either."""
    graph, edges = tracer.graph, tracer.grad_edges
    structural, stack = set(), [root]
    while stack:
        v = stack.pop()
        if v.node is not None and v.node not in structural:
            structural.add(v.node)
            stack.extend(v.node.input_values())
    depends, detached, nodes = set(leaf_values), {}, []
    for node in graph.nodes:
        reads = node.input_values()
        dependent = any(v in depends for v in reads)
        if dependent:
            depends.update(node.outputs)
        chosen = edges.get(node)
        # NOTE: an earlier gradient node is left alone: its loss and leaves are what it
        # differentiates, not inputs a gradient would flow back through.
        if dependent and chosen is not None and node in structural \
                and not node.opdef.gradient:
            inputs = list(node.inputs)
            for i, x in enumerate(inputs):
                if isinstance(x, Value) and i not in chosen and x in depends \
                        and _autograd.differentiable(x.dtype):
                    if x not in detached:
                        cut = graph.add_node("detach", [x], {}, [(x.shape, x.dtype)],
                                             node.module, node.source)
                        graph.nodes.pop()       # placed just before its first reader below
                        edges[cut] = ()
                        nodes.append(cut)
                        detached[x] = cut.outputs[0]
                    inputs[i] = detached[x]
            node.inputs = tuple(inputs)
        nodes.append(node)
    graph.nodes[:] = nodes


def while_loop_backward_message(source: str) -> str:
    return (f"backward() through graphnet.while_loop (at {source or 'unknown line'}) is not "
            f"supported in static mode: XLA's while loop has no reverse-mode derivative, "
            f"because its trip count is known only at run time. Run this code dynamically "
            f"(uncompiled, or graphnet.compile(..., mode='dynamic')), write the loop as a "
            f"Python for-loop over a count known when tracing (it unrolls), or keep the loop "
            f"out of the gradient (graphnet.no_grad() or .detach() on its inputs).")


def _refuse_while_loops(reachable: set, leaf_values: set) -> None:
    """A gradient that would flow through a node whose op has no reverse mode (`while_loop`:
    XLA's while loop, jax.lax.while_loop, has no reverse-mode derivative, its trip count is
    only known at run time) cannot be computed. Say so, with the loop's line and the ways
    out."""
    loops = {v.node for v in reachable
             if v.node is not None and not v.node.opdef.reverse_mode}
    for loop in sorted(loops, key=lambda n: n.outputs[0].name):
        upstream = set().union(*(_ancestors(x) for x in loop.input_values()))
        if upstream & leaf_values:
            raise TraceError(while_loop_backward_message(loop.source))


def record_backward(tracer, root: Tensor, gradient=None) -> None:
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn: nothing to differentiate")
    root_value = tracer.value_of(root)
    if gradient is None and root.numel() != 1:
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this "
                           f"tensor has shape {list(root.shape)}")
    reachable = _ancestors(root_value, tracer.grad_edges)
    leaves, values = _reached_leaves(tracer, reachable)
    seen_values = set(values)
    _refuse_eager_history(tracer, reachable)
    refuse_shared_leaf_values(tracer, reachable)
    refuse_modified(tracer, reachable)
    if not leaves:
        if any(ref() is None for ref in tracer.created):
            return   # its leaves were made here and dropped (`w = w - lr * w.grad`): no one
            # can read their .grad, as PyTorch's backward into them shows nothing
        raise TraceError("backward(): the loss depends on no tensor that requires grad")
    guard_hooks(list({id(t): t for t in leaves}.values()))
    _refuse_while_loops(reachable, seen_values)
    if gradient is not None:   # PyTorch's shape check and cast to the root's dtype
        from graphnet.autograd._api import _make_grads

        (gradient,) = _make_grads((root,), (gradient,), True)
    swapped = swapped_primals(tracer, reachable)
    if swapped or (_autograd.grad_mode.anomaly and _autograd.grad_mode.anomaly_check_nan):
        grads = _walked_grads(tracer, root, gradient, values, swapped)
    else:
        grads = _grad_node(tracer, root_value, gradient, values, seen_values)
    with _autograd.no_grad():
        for leaf, g in zip(leaves, grads):
            g = run_leaf_hooks(leaf, g)
            current = leaf.grad
            if current is None and _same_type(leaf, g):
                leaf.grad = g
            elif current is None:
                # NOTE: a leaf given storage of another shape or dtype by `.data =` after the
                # forward: its gradient has the old shape, as eagerly and in PyTorch (the
                # engine stores it without the `.grad =` setter's check)
                tracer.on_grad_write(leaf)
                leaf._grad = g
            else:   # into the same .grad tensor, as eager backward accumulates
                current._assign(current + g)
            run_post_accumulate_hooks(leaf)


def _same_type(leaf: Tensor, g: Tensor) -> bool:
    return tuple(leaf.shape) == tuple(g.shape) and leaf.dtype == g.dtype


def _reached_leaves(tracer, reachable) -> tuple[list, list]:
    """(leaf tensors, the values of theirs the loss reached), in step. A leaf reached through
    its current value is one entry; a captured leaf changed in place after the forward read it
    (`with no_grad(): lin.weight.mul_(0.5)` before `backward()`) is reached through the value
    it had on entry, its graph input: an entry for that value too, whose gradient adds to the
    same `.grad`, as PyTorch's does (the weight got None, and the optimizer skipped it)."""
    leaves, values, seen = [], [], set()
    candidates = [(rec.tensor, rec.placeholder) for rec in tracer.lifted.values()]
    candidates += [(ref(), None) for ref in tracer.created]
    for t, entry in candidates:
        if t is None or not t.requires_grad or t.grad_fn is not None:
            continue
        for v in leaf_values(tracer, t, entry):   # a leaf given `.data = other`: its old values too
            if v in reachable and v not in seen:
                seen.add(v)
                leaves.append(t)
                values.append(v)
    return leaves, values


def _refuse_eager_history(tracer, reachable) -> None:
    """A traced backward stops at the program's inputs: the gradient of an input that has
    eager history (`h = w * 2` passed in, w requiring grad) would have to continue into the
    eager tape, which the program cannot do. It left `w.grad` None without a word; now it
    says so."""
    for rec in tracer.lifted.values():
        t = rec.tensor
        if t.requires_grad and t.grad_fn is not None and rec.placeholder in reachable:
            name = rec.placeholder.name
            raise TraceError(
                f"backward() inside a compiled function reaches its input `{name}`, which has "
                f"eager autograd history ({t.grad_fn.name()}): a compiled backward cannot "
                f"continue into the eager graph behind it, and the leaves there would get no "
                f"gradient. Return the loss and call backward() outside the compiled "
                f"function, compute `{name}` inside it, or pass `{name}.detach()` if its "
                f"history needs no gradient.")


def _grad_node(tracer, root_value: Value, gradient, values: list, leaf_values: set) -> list:
    """The gradients wrt `values` (the leaves' reached values) as the outputs of one `grad`
    node (lowered under one jax.vjp)."""
    _cut_untaped_paths(tracer, root_value, leaf_values)
    seed = tracer.value_of(gradient) if gradient is not None else None
    inputs, attrs = grad_inputs(root_value, seed, list(values))
    avals = [(v.shape, v.dtype) for v in values]
    node = tracer.graph.add_node("grad", inputs, attrs, avals, _dispatch.module_path(),
                                 _source.user_frame())
    tracer.grad_edges[node] = ()
    grads = []
    for value in node.outputs:
        g = Tensor._wrap(value)
        tracer.on_tensor_created(g)
        grads.append(g)
    return grads


def _walked_grads(tracer, root: Tensor, gradient, values: list, swapped: dict) -> list:
    """The gradients wrt `values` from one VJP node per op (the walk of `autograd.grad`,
    grad_walk.py) instead of one `grad` node: where a `.data =` swap since the forward makes
    PyTorch's backward read new values (`swapped`, autodiff_data_swap.py), and under
    `detect_anomaly()`, where each node's results are checked for NaN in the program, as eager
    mode's engine checks them (slower to compile and run; it is a debugging mode)."""
    from graphnet._factories import ones_like

    from .grad_walk import _walk

    with _autograd.no_grad():
        seed = ones_like(root) if gradient is None else gradient
    grads = _walk(tracer, [root], [(v,) for v in values], [seed], create_graph=False,
                  swapped=swapped)
    for v, g in zip(values, grads):
        assert g is not None, f"no gradient reached leaf value {v}"
    return grads
