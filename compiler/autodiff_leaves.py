"""Which graph values a leaf's gradient is taken at, and when a trace cannot tell two leaves
apart.

A node's inputs are graph values, not tensors: a `.detach()` / `.data` alias holds the very
value of the tensor it came from. Eagerly the tape knows which tensor an op read; a trace only
knows the value. So an alias made a leaf (`a = x.detach().requires_grad_()`, `z =
h.detach().requires_grad_()` with `h` computed from a parameter) is read by a differentiating
op through a value of its own (`own_leaf_value`): a `detach` node of the shared value, whose
gradient is the alias's and goes no further, as the tape would record it. Before, the uses of
the alias gave their gradient to the tensor it came from as well, even after the alias itself
was gone (`(w*2).sum() + (w.detach().requires_grad_()*3).sum()` gave `w.grad` 5, not 2).
Where two leaves still hold one value the trace cannot separate (`.data = other` between
leaves), the compiled backward refuses (`refuse_shared_leaf_values`) instead of returning the
other's numbers.

A leaf given other storage after a forward read it (`w.data = other`) is reached through the
value it had then: its old values (the `.data =` chain, graphnet/_autograd_data_swap.py) are
values of the same leaf (`leaf_values`), and so are the values an in-place write under
no_grad replaced (`note_leaf_write`)."""

from __future__ import annotations

import weakref

from graphnet._errors import TraceError

from graphnet._tensor import Tensor

from .ir import Value


def _swap_olds(t) -> list:
    """The earlier values of `t` that only `.data =` swaps led from to its current one."""
    from graphnet._autograd_data_swap import _swapped_to

    olds = []
    for old_ref, *_ in t.__dict__.get("_data_swaps", ()):
        old = old_ref()
        if isinstance(old, Value) and old not in olds and _swapped_to(t, old) is not None:
            olds.append(old)
    return olds


class _OwnValues:
    """An alias leaf's own values (`values`) and the shared values they stand for
    (`sources`); `ref` tells a live tensor from a later one given the same id."""

    __slots__ = ("ref", "sources", "values")

    def __init__(self, t):
        self.ref, self.sources, self.values = weakref.ref(t), {}, []


def own_leaf_value(tracer, t, value: Value) -> Value:
    """The value a differentiating op reads for `t`, a `.detach()` / `.data` alias that
    requires grad and has no history: `value` wrapped in a `detach` node of its own (one per
    shared value it stood for), so the op's gradient edge leads to `t` alone. A captured
    alias reading its own graph input needs none."""
    rec = tracer.lifted.get(id(t))
    if rec is not None and value is rec.placeholder:
        return value
    own = tracer.leaf_own.get(id(t))
    if own is None or own.ref() is not t:
        own = tracer.leaf_own[id(t)] = _OwnValues(t)
    mine = own.sources.get(value)
    if mine is None:
        if value in own.values:
            return value
        from graphnet import _dispatch

        from . import _source

        node = tracer.graph.add_node("detach", [value], {}, [(value.shape, value.dtype)],
                                     _dispatch.module_path(), _source.user_frame())
        tracer.grad_edges[node] = ()
        mine = own.sources[value] = node.outputs[0]
        own.values.append(mine)
    return mine


def leaf_values(tracer, t, entry: Value | None = None) -> list:
    """The graph values whose gradient is leaf `t`'s: its current value, the value it had on
    entry to the trace (`entry`, a captured tensor changed in place since), the values
    `.data =` replaced, and an alias's own values in place of the shared ones they stand
    for."""
    own = tracer.leaf_own.get(id(t))
    if own is not None and own.ref() is not t:
        own = None
    values = []
    held = tracer.__dict__.get("leaf_history", {}).get(id(t))
    earlier = held[1] if held is not None and held[0]() is t else ()
    for v in (t._value, entry, *_swap_olds(t), *earlier):
        if isinstance(v, Value) and v not in values \
                and (own is None or v not in own.sources):
            values.append(v)
    return values + ([v for v in own.values if v not in values] if own else [])


def note_leaf_write(tracer, t) -> None:
    """`t` is about to be written in place (under no_grad, or an optimizer's step): if it is a
    leaf that requires grad, the value it holds now stays one of its values (`leaf_values`).
    NOTE: only its current value and its value on entry were: with two such writes in a
    trace (an `Embedding(max_norm=...)` looked up twice renormalises before each lookup), the
    gradient of every read between them was dropped, silently."""
    if not (t.requires_grad and t.grad_fn is None and isinstance(t._value, Value)):
        return
    history = tracer.__dict__.setdefault("leaf_history", {})
    held = history.get(id(t))
    if held is None or held[0]() is not t:
        held = history[id(t)] = (weakref.ref(t), [])
    if t._value not in held[1]:
        held[1].append(t._value)


def live_tensors(tracer) -> list:
    """The tensors the trace knows and that are still alive (captured ones, then created)."""
    seen, out = set(), []
    for t in [rec.tensor for rec in tracer.lifted.values()] + [r() for r in tracer.created]:
        if t is not None and id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def _is_grad_leaf(t) -> bool:
    return bool(t.requires_grad) and t.grad_fn is None


def refuse_shared_leaf_values(tracer, reachable: set) -> None:
    """Raise when a value the gradient reaches is held by two leaves that require grad, or by
    a leaf while its producer has gradient edges (the value is also a tensor with history):
    the graph cannot tell which tensor each op read, so either's gradient could be the
    other's."""
    from .autodiff import _default_edges

    holders: dict = {}
    for t in live_tensors(tracer):
        if not _is_grad_leaf(t):
            continue
        rec = tracer.lifted.get(id(t))
        for v in leaf_values(tracer, t, rec.placeholder if rec is not None else None):
            if v in reachable:
                holders.setdefault(v, []).append(t)
    for v, leaves in holders.items():
        node = v.node
        history = False
        if node is not None:
            edges = tracer.grad_edges.get(node)
            history = bool(_default_edges(node) if edges is None else edges)
        if len(leaves) > 1 or history:
            raise TraceError(_shared_message(v, len(leaves), history))


def _shared_message(v: Value, n_leaves: int, history: bool) -> str:
    what = (f"{n_leaves} tensors that require grad and have no history hold" if n_leaves > 1
            else "a tensor that requires grad and has no history holds")
    also = (" (one with autograd history, from "
            f"`{v.node.op}` at {v.node.source or 'unknown line'}, holds it too)"
            if history else "")
    return (f"backward inside graphnet.compile: {what} the same graph value %{v.name}{also}. "
            f"They are `.detach()` / `.data` aliases of one tensor made to require grad "
            f"(`a = x.detach().requires_grad_()`): a traced op records the value it read, "
            f"not which of these tensors, so each one's gradient could be given to the "
            f"other. Give each leaf its own values with `.clone()` "
            f"(`x.detach().clone().requires_grad_()`), or run this code uncompiled.")


def returned_created_leaves(tracer, leaves: list, out_grad: list, identity: list) -> list:
    """Per returned tensor: whether it is a leaf the traced code made (`xa =
    x.clone().requires_grad_()`); the call returns it as a leaf, as eagerly. Its gradient
    can only come from a backward() inside the code: when the code returns both such a leaf
    and a result that requires grad (an FGSM helper returning `xa, loss`) and runs no
    backward() itself, the trace raises, as the result's gradient would never reach the leaf
    (before, `xa` came back as a non-leaf whose `.grad` stayed None)."""
    tensors = [t for t in leaves if isinstance(t, Tensor)]
    made = [_is_grad_leaf(t) and id(t) in tracer.created_ids and identity[i] is None
            for i, t in enumerate(tensors)]
    if any(made) and not tracer.graph.differentiates() and any(
            wants and not leaf for wants, leaf in zip(out_grad, made)):
        raise TraceError(
            "the compiled code returns a leaf tensor it made (`x.clone().requires_grad_()`) "
            "together with a result computed from tensors that require grad, and runs no "
            "backward() itself: a backward() of the result after the call could not reach "
            "that leaf's .grad. Make the leaf outside the compiled function and pass it in, "
            "run the backward() inside it, or run this code uncompiled.")
    if any(m and t._grad is not None for m, t in zip(made, tensors)):
        raise TraceError(
            "the compiled code returns a leaf tensor it made (`x.clone().requires_grad_()`) "
            "whose .grad its own backward() set: the call cannot return that .grad with it. "
            "Return the gradient itself (`return xa.grad`), make the leaf outside the "
            "compiled function and pass it in, or run this code uncompiled.")
    return made
