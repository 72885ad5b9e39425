"""`graphnet.func.vmap` inside `graphnet.compile`: the function is traced once, on one
sample, into a sub-graph held by a `vmap` node, which lowers to `jax.vmap` of that sub-graph
(graphnet/_ops/control.py). What the static program computes is what eager mode's vmap
computes, which runs the function once on JAX's batch tracers: the same kernels, batched by
JAX.

The sub-graph's inputs are the mapped tensors with their batch dimension taken off (the
user's code sees one sample's shapes, as under PyTorch's vmap), then the tensors the function
reads from outside (parameters, unmapped arguments, tensors made earlier in the trace), which
every sample shares. A `backward()` through the node is `jax.vjp` of the batched function;
`autograd.grad`, `func.grad` and `jacrev` inside the function are traced into the sub-graph
as they are anywhere else, so per-sample gradients (`vmap(grad(loss))`) compile.

What eager mode's vmap refuses is refused here with its errors (a random op under
randomness='error', `.item()` on a mapped value, a write in place to a tensor from outside);
randomness='same' and 'different' are refused with a TraceError (no per-call RNG split inside
a sub-graph yet)."""

from __future__ import annotations

from graphnet._errors import TraceError, dimension_error
from graphnet._func_tape import mapped_results, unflatten
from graphnet._ops import OPS
from graphnet._tensor import Tensor

from .control_flow import (SubTracer, _all_values, _captured_grads, _record_edges, _source_line,
                           _taped, _wrap_outputs)
from .ir import Value


class VmapTracer(SubTracer):
    """Traces the function on one sample: a value read from a mapped tensor is refused as
    eager vmap refuses it (the data differs per sample), not as a trace's TraceError."""

    def __init__(self, parent, name: str, call):
        super().__init__(parent, name)
        self.call = call

    def concretize(self, t, what: str):
        if id(t) in self.created_ids:
            if what == "item()":
                raise RuntimeError(
                    "vmap: It looks like you're calling .item() on a Tensor. We don't support "
                    "vmap over calling .item() on a Tensor, please try to rewrite what you're "
                    "doing with other operations.")
            raise RuntimeError(
                f"vmap: It looks like you're attempting to use a Tensor in some data-dependent "
                f"control flow ({what}). graphnet's vmap does not support that; use "
                f"graphnet.where or arithmetic instead.")
        return super().concretize(t, what)


def trace_vmap(parent, call):
    """The result of `call` (a graphnet._func_vmap._Call) while `parent` traces: one `vmap`
    node whose sub-graph is the function on one sample."""
    from graphnet import _dispatch

    sub = VmapTracer(parent, parent.graph.fresh_name(f"vmap_{call.name}"), call)
    leaves = list(call.leaves)
    mapped = []
    for i, axis in zip(call.batched, call.axes):
        x = leaves[i]
        outer = parent.value_of(x)
        shape = outer.shape[:axis] + outer.shape[axis + 1:]
        v = sub.graph.add_input(f"arg{i}", shape, outer.dtype, "arg", weak_type=outer.weak_type)
        t = Tensor._wrap(v)
        t.requires_grad = x.requires_grad
        sub.on_tensor_created(t)
        leaves[i] = t
        mapped.append((x, outer))
    with _dispatch.push_mode(sub):
        out = call.func(*unflatten(call.tree, leaves), **call.kwargs)
    _refuse_random(sub, call)
    for k, i in enumerate(call.batched):
        t = leaves[i]
        if t._value is not sub.graph.inputs[k]:
            raise RuntimeError(
                f"vmap: {call.name} wrote in place to a tensor of shape {tuple(t.shape)} that "
                f"it did not create (an input or a tensor from outside the call); graphnet's "
                f"vmap does not support in-place updates of those. Use the out-of-place op "
                f"(`x + y` for `x.add_(y)`) and return the result.")
    known = _all_values(parent)
    for rec in parent.lifted.values():
        if isinstance(rec.tensor._value, Value) and rec.tensor._value not in known:
            raise RuntimeError(
                f"vmap: {call.name} wrote in place to '{rec.placeholder.name}', a tensor from "
                f"outside the call; graphnet's vmap does not support in-place updates of "
                f"those (a BatchNorm in training mode updates its running statistics: call "
                f"eval() first, or pass track_running_stats=False).")
    outs, out_tree = mapped_results(call.name, out)
    out_axes = _out_axes(call, out, outs)
    leaves_in = {sub.graph.inputs[k] for k, (x, _) in enumerate(mapped) if x.requires_grad} | {
        sub.captured[v] for v in sub.capture_grad if v in sub.captured}
    for k, (o, axis) in enumerate(zip(outs, out_axes)):
        value = sub.value_of(o)
        if axis is None and _depends_on_mapped(sub, value, len(mapped)):
            raise ValueError(f"vmap({call.name}, ...): `{call.name}` can not return a "
                             f"BatchedTensor when out_dim is None")
        sub.graph.add_output("out", k, _taped(sub, o, leaves_in))
    avals, axes = [], []
    for o, axis in zip(outs, out_axes):
        shape = list(o.shape)
        if axis is not None:
            if not -(len(shape) + 1) <= axis <= len(shape):
                raise dimension_error(axis, len(shape) + 1)
            axis %= len(shape) + 1
            shape.insert(axis, call.size)
        avals.append((tuple(shape), o._value.dtype))
        axes.append(axis)
    attrs = {"body": sub.graph, "in_axes": tuple(call.axes), "n_mapped": len(mapped),
             "out_axes": tuple(axes), "size": call.size}
    inputs = [outer for _, outer in mapped] + list(sub.capture_order)
    node = parent.graph.add_node("vmap", inputs, attrs, avals, _dispatch.module_path(),
                                 _source_line())
    grad = _record_edges(parent, node, [x.requires_grad for x, _ in mapped]
                         + _captured_grads(sub))
    results = _wrap_outputs(parent, node, grad)
    return unflatten(out_tree, results)


def _refuse_random(sub, call) -> None:
    for node in sub.graph.nodes:
        if not OPS[node.op].random:
            continue
        if call.randomness == "error":
            raise RuntimeError(
                "vmap: called random operation while in randomness error mode. Please either "
                "use the 'same' or 'different' randomness flags on vmap or perform the "
                "randomness operation out of vmap")
        raise TraceError(
            f"vmap({call.name}, randomness={call.randomness!r}) inside graphnet.compile: a "
            f"random op ({node.op!r}) in the mapped function is not supported in static mode. "
            f"Draw the random tensor outside vmap and pass it in, or call vmap outside the "
            f"compiled function.")


def _out_axes(call, out, outs) -> list:
    from graphnet._func_vmap import _broadcast

    where = f"vmap({call.name}, ..., out_dims={call.out_dims})(<inputs>)"
    axes = _broadcast(call.out_dims, out, f"{where}: out_dims is not compatible with the "
                      f"structure of `outputs`.")
    return list(axes)


def _depends_on_mapped(sub, value, n_mapped: int) -> bool:
    """Whether `value` is computed from a mapped input (then it has a batch dimension)."""
    mapped = set(sub.graph.inputs[:n_mapped])
    seen, stack = set(), [value]
    while stack:
        v = stack.pop()
        if v in mapped:
            return True
        if v in seen or v.node is None:
            continue
        seen.add(v)
        stack.extend(x for x in v.node.inputs if isinstance(x, Value))
    return False
