"""Aliases and views that follow their tensor, as PyTorch's shared storage does: the `.data`,
`detach()` and `state_dict()` values a tensor handed out, and its views (`x[0]`, `x.t()`,
`x.view(-1)` ...), show its new values after an in-place change (docs/architecture.md, "A
compiled call runs the XLA program")."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Callable

from ._mode import current_mode

if TYPE_CHECKING:
    from ._tensor import Tensor

# what a deep copy or a pickle leaves out (Tensor.__getstate__): the ties to other tensors
# (the aliases handed out, a view's write-back to its source, which made a copy write into
# the original's), the hooks (PyTorch keeps none) and facts about the original's storage (its
# address, whether it is shared, the `.data` swaps it saw: weak references pickle refuses)
TIES = ("_aliases", "_views", "_view", "_view_of")
LEFT_OUT = TIES + ("_hooks", "_post_hooks", "_data_swaps", "_address", "_shared",
                   "_parameter_view", "_inference", "_view_base")   # a copy is a normal tensor
# what makes a tensor a view: a deep copy sets these anew (deep_copy)
VIEW_FACTS = ("_storage", "_view_source", "_view_forward", "_overlap_index", "_over")
SLOTS = ("_value", "requires_grad", "_grad", "grad_fn", "_oi")


def pickled_state(t: Tensor, keep_grad: bool = False, leave=()):
    """What `pickle` keeps of a tensor (`Tensor.__getstate__`): the values, autograd flags
    and attributes, not the ties to other tensors; `.grad` only for a deep copy
    (`keep_grad`), as in PyTorch."""
    import jax
    import numpy as np

    state = {k: v for k, v in t.__dict__.items() if k not in LEFT_OUT and k not in leave}
    slots = {name: getattr(t, name) for name in SLOTS if hasattr(t, name)}
    slots["_alias_src"] = None
    # NOTE: the autograd node stays behind: as in PyTorch, a pickled non-leaf comes back a
    # leaf with its `requires_grad` (pickling the node failed on its class)
    slots["grad_fn"], slots["_oi"] = None, 0
    if not keep_grad:
        slots["_grad"] = None
    if isinstance(slots.get("_value"), jax.Array):
        # NOTE: as a NumPy array: a pickled JAX array comes back without graphnet's 64-bit
        # types (an int64 tensor was int32 after pickle.loads)
        slots["_value"] = np.asarray(slots["_value"])
    return state or None, slots


def restore_state(t: Tensor, state) -> None:
    """`Tensor.__setstate__`: the values back as a JAX array of the saved dtype."""
    import jax
    import numpy as np

    from ._x64 import x64

    state, slots = state
    if state:
        t.__dict__.update(state)
    for name, value in slots.items():
        if name == "_value" and isinstance(value, np.ndarray):
            with x64():
                value = jax.numpy.asarray(value)
        setattr(t, name, value)


# ids of the views whose in-place write is on its way to their source (Tensor._assign): the
# source's change is theirs, so they are not computed again from it
WRITING: set = set()


def remember_alias(base: Tensor, alias: Tensor) -> None:
    """Note `alias` (a `.data`, `detach()` or `state_dict()` value of `base`) so that a later
    in-place change of `base` reaches it (share_value)."""
    _remember(base, "_aliases", weakref.ref(alias))


def adopt_storage(t: Tensor, source: Tensor) -> None:
    """`Tensor(source)`: `t` shares `source`'s storage, as a `.data` alias does (an in-place
    write to either reaches the other). Inside a trace `source` is tracked first, so a
    captured tensor becomes a graph input read on every call; before, its values at trace
    time were baked into the program, and a later change in place was never seen."""
    mode = current_mode()
    if mode is not None:
        mode.on_write(source)
        t._value = source._value
        mode.on_tensor_created(t)
    t._alias_src = source
    if mode is None or mode.records_graph:
        remember_alias(source, t)


def remember_view(source: Tensor, view: Tensor, forward: Callable) -> None:
    """Note `view`, which is `forward(source)` (basic indexing, a reshape, a transpose ...),
    so that a later in-place change of `source` gives it `forward` of the new values."""
    mode = current_mode()
    if mode is None or mode.records_graph:
        _remember(source, "_views", (weakref.ref(view), forward, tuple(source._value.shape)))
        view.__dict__["_view_of"] = weakref.ref(source)   # for _view_relayout


def _remember(t: Tensor, kind: str, entry) -> None:
    refs = t.__dict__.get(kind)
    if refs is None:
        t.__dict__[kind] = [entry]
        return
    if len(refs) >= 8:   # `loss.detach()`, `x[i]` every step: forget the ones already gone
        refs[:] = [r for r in refs if _target(r) is not None]
    refs.append(entry)


def _target(entry):
    return entry[0]() if isinstance(entry, tuple) else entry()


def store(t: Tensor, value) -> None:
    """Write `value` over `t`'s values in place, as an optimizer step, a compiled call's
    write-back or `load_state_dict` does, and give it to `t`'s aliases (share_value) and,
    eagerly, to the storage `t` is an alias of (graphnet/_alias_base.py)."""
    t._value = value
    share_value(t)
    if t._alias_src is not None and current_mode() is None:
        from ._alias_base import store_through   # NOTE: it imports this module

        store_through(t)
    elif "_parameter_view" in t.__dict__ and "_view" in t.__dict__ and current_mode() is None:
        # a parameter that is a view of another tensor's storage (`Parameter(q.t())`):
        # its new values go to that storage, as PyTorch's in-place step writes them
        from ._autograd import no_grad

        with no_grad():
            write_through_view(t, t.__dict__["_view"])


def share_value(t: Tensor) -> None:
    """After `t`'s values changed in place (an in-place op, an optimizer step, a compiled
    step's write-back, `load_state_dict`): give the same values to the aliases `t` handed out
    and the new values of its views to its views, as PyTorch's shared storage does (`best =
    model.state_dict()`, `w = p.data` or `row = p[0]`, read after training, holds the trained
    values, as in PyTorch). Inside a trace only the aliases and views that hold graph values
    too (made or read by the traced code) follow; the others are the compiled call's to
    update, when it writes its results back eagerly."""
    aliases, views = t.__dict__.get("_aliases"), t.__dict__.get("_views")
    if not aliases and not views:
        return
    mode = current_mode()
    if mode is not None and not mode.records_graph:
        return
    value = t._value
    for ref in aliases or ():
        alias = ref()
        if alias is None or alias._value is value:
            continue
        old = alias._value
        if mode is not None and type(old) is not type(value):
            # a concrete alias: the compiled call's write-back reaches it; the traced ones it
            # ties (two parameters made from one tensor outside the trace) share now
            _through_concrete(alias, value, {id(t), id(alias)})
            continue
        if old.shape != value.shape or old.dtype != value.dtype:
            continue   # `p.data = other` gave `p` new storage; the alias kept the old one
        alias._value = value
        share_value(alias)
    for ref, forward, shape in views or ():
        view = ref()
        if view is None or id(view) in WRITING or tuple(value.shape) != shape:
            continue
        if mode is not None and type(view._value) is not type(value):
            continue
        _recompute(view, t, forward)


def _through_concrete(t: Tensor, value, seen: set) -> None:
    """Inside a trace: give `value` to the traced aliases reached from `t`, a concrete alias
    of a tensor the trace just wrote, through any other concrete ones."""
    for ref in t.__dict__.get("_aliases") or ():
        alias = ref()
        if alias is None or id(alias) in seen:
            continue
        seen.add(id(alias))
        old = alias._value
        if type(old) is not type(value):
            _through_concrete(alias, value, seen)
        elif old is not value and old.shape == value.shape and old.dtype == value.dtype:
            alias._value = value
            share_value(alias)


def _recompute(view: Tensor, source: Tensor, forward: Callable) -> None:
    """Give `view` the values `forward` reads from `source`'s new values. Written under
    autograd (a non-leaf source, grad mode on), the view is taken again from the new source,
    gradient included, as PyTorch rebases a view on its source's new history; else only its
    values change and its gradient is what it was. A custom Function's output that is a view
    of its input is never rebased (that would skip the Function's backward): its
    `_custom_view` hook says what its gradient becomes."""
    from . import _autograd
    from ._view_creation import refused_after_base_write

    custom = view.__dict__.get("_custom_view")   # graphnet/autograd/_function_outputs.py
    # NOTE: a view that did not need grad is rebased too when the write gave its source a
    # history (`rows = [R[i] ...]; R[0] = x[0]`): PyTorch's views share their base's history
    recorded = source.grad_fn is not None and _autograd.grad_mode.enabled and custom is None \
        and (view.requires_grad or source.requires_grad)
    if recorded and not refused_after_base_write(view):
        new = forward(source)
        view._value, view.grad_fn, view._oi = new._value, new.grad_fn, new._oi
        view.requires_grad = new.requires_grad
    else:
        with _autograd.no_grad():
            new = forward(source)
        view._value = view._values_of(new) if view.grad_fn is not None and not recorded \
            else new._value
        if custom is not None:
            custom(view)
    share_value(view)


def forget_ties(t: Tensor) -> None:
    """`t` took other storage: the aliases and views it handed out keep the old one."""
    t.__dict__.pop("_aliases", None)
    t.__dict__.pop("_views", None)


def new_storage(t: Tensor) -> None:
    """`t.data = other`: `t` takes other storage, and the aliases and views it handed out keep
    the old one, as in PyTorch. Inside a trace only the trace's own are forgotten; the
    compiled call forgets the others on each call (TraceResult.new_storage)."""
    mode = current_mode()
    if mode is None:
        from ._alias_base import keep_old_storage, leave_base   # NOTE: it imports this module

        keep_old_storage(t)
        forget_ties(t)
        leave_base(t)
        return
    if mode.records_graph:   # `t` was tracked (on_write): its value is a graph value
        graph_value = type(t._value)
        for kind in ("_aliases", "_views"):
            refs = t.__dict__.get(kind)
            if refs:
                refs[:] = [r for r in refs if (a := _target(r)) is not None
                           and type(a._value) is not graph_value]
    mode.on_new_storage(t)


def write_through_view(t, write_through):
    """Give view `t`'s new values to the tensor it came from (`Tensor._assign`): `x[0].add_(1)`,
    `x.t().mul_(2)`, `x[0][1] = v`, and through an alias of a view (`x[1:].detach().add_(1)`,
    lost before). Views of the source taken earlier take its new values (share_value), all
    but `t`, whose values these are."""
    if write_through is not None:
        WRITING.add(id(t))
        try:
            write_through(t)
        finally:
            WRITING.discard(id(t))
        if "_overlap_index" in t.__dict__:   # its other elements show shared places anew
            _recompute(t, t.__dict__["_view_source"], t.__dict__["_view_forward"])
    return t
