"""`loss.backward()` while tracing: one `grad` node whose outputs are d(loss)/d(leaf) for every
leaf that requires grad and that the loss depends on. Lowering turns it into `jax.vjp` of the
forward sub-graph between those leaves and the loss (see lower.py)."""

from __future__ import annotations

from graphnet import _autograd, _dispatch
from graphnet._errors import TraceError
from graphnet._ops import OPS
from graphnet._tensor import Tensor

from . import _source
from .ir import Value


def _ancestors(root: Value) -> set:
    """Values the root depends on through differentiable edges only (as PyTorch's tape: a
    leaf seen only through `x < y` or an index input gets no grad, not a zero grad)."""
    seen, stack = set(), [root]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        node = v.node
        if node is None or (node.op in OPS and not OPS[node.op].differentiable):
            continue
        skip = OPS[node.op].nondiff_inputs if node.op in OPS else ()
        stack.extend(x for i, x in enumerate(node.inputs)
                     if isinstance(x, Value) and i not in skip)
    return seen


def while_loop_backward_message(source: str) -> str:
    return (f"backward() through graphnet.while_loop (at {source or 'unknown line'}) is not "
            f"supported in static mode: XLA's while loop has no reverse-mode derivative, "
            f"because its trip count is known only at run time. Run this code dynamically "
            f"(uncompiled, or graphnet.compile(..., mode='dynamic')), write the loop as a "
            f"Python for-loop over a count known when tracing (it unrolls), or keep the loop "
            f"out of the gradient (graphnet.no_grad() or .detach() on its inputs).")


def _refuse_while_loops(reachable: set, leaf_values: set) -> None:
    """A gradient that would flow through a `while_loop` node cannot be computed: XLA's while
    loop (jax.lax.while_loop) has no reverse-mode derivative, its trip count is only known
    at run time. Say so, with the loop's line and the ways out."""
    loops = {v.node for v in reachable if v.node is not None and v.node.op == "while_loop"}
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
    reachable = _ancestors(root_value)
    leaves: list[Tensor] = []
    seen_values = set()
    candidates = [rec.tensor for rec in tracer.lifted.values()]
    candidates += [ref() for ref in tracer.created]
    for t in candidates:
        if t is None or not t.requires_grad or t.grad_fn is not None:
            continue
        v = t._value
        if isinstance(v, Value) and v in reachable and v not in seen_values:
            seen_values.add(v)
            leaves.append(t)
    if not leaves:
        raise TraceError("backward(): the loss depends on no tensor that requires grad")
    _refuse_while_loops(reachable, seen_values)
    inputs = [root_value]
    if gradient is not None:
        gradient = gradient if isinstance(gradient, Tensor) else Tensor(gradient)
        inputs.append(tracer.value_of(gradient))
    inputs += [t._value for t in leaves]
    avals = [(t._value.shape, t._value.dtype) for t in leaves]
    node = tracer.graph.add_node("grad", inputs, {"n_leaves": len(leaves),
                                                  "has_cotangent": gradient is not None},
                                 avals, _dispatch.module_path(), _source.user_frame())
    with _autograd.no_grad():
        for leaf, value in zip(leaves, node.outputs):
            g = Tensor._wrap(value)
            tracer.on_tensor_created(g)
            current = leaf.grad
            leaf.grad = g if current is None else current + g
