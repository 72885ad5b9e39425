"""Aliases that follow their tensor, as PyTorch's shared storage does: the `.data`,
`detach()` and `state_dict()` values a tensor handed out receive its new values after an
eager in-place change (docs/architecture.md, "A compiled call runs the XLA program")."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from ._mode import current_mode

if TYPE_CHECKING:
    from ._tensor import Tensor

# what a deep copy or a pickle leaves out (Tensor.__getstate__), and the slots it keeps
TIES = ("_aliases", "_view")
SLOTS = ("_value", "requires_grad", "_grad", "grad_fn", "_oi")


def remember_alias(base: Tensor, alias: Tensor) -> None:
    """Note `alias` (a `.data`, `detach()` or `state_dict()` value of `base`) so that a later
    in-place change of `base` reaches it (share_value)."""
    refs = base.__dict__.get("_aliases")
    if refs is None:
        base.__dict__["_aliases"] = [weakref.ref(alias)]
        return
    if len(refs) >= 8:   # `loss.detach()` every step: forget the aliases already gone
        refs[:] = [r for r in refs if r() is not None]
    refs.append(weakref.ref(alias))


def store(t: Tensor, value) -> None:
    """Write `value` over `t`'s values in place, as an optimizer step, a compiled call's
    write-back or `load_state_dict` does, and give it to `t`'s aliases (share_value)."""
    t._value = value
    share_value(t)


def share_value(t: Tensor) -> None:
    """After `t`'s values changed in place (an in-place op, an optimizer step, a compiled
    step's write-back, `load_state_dict`): give the same values to the aliases `t` handed out,
    as PyTorch's shared storage does (`best = model.state_dict()` or `w = p.data`, read after
    training, holds the trained values, as in PyTorch). Inside a trace only the aliases that
    hold graph values too (made or read by the traced code) take the new graph value; the
    others are the compiled call's to update, when it writes its results back eagerly."""
    refs = t.__dict__.get("_aliases")
    if not refs:
        return
    mode = current_mode()
    if mode is not None and not mode.records_graph:
        return
    value = t._value
    for ref in refs:
        alias = ref()
        if alias is None or alias._value is value:
            continue
        old = alias._value
        if mode is not None and type(old) is not type(value):
            continue   # a concrete alias: the compiled call's write-back reaches it
        if old.shape != value.shape or old.dtype != value.dtype:
            continue   # `p.data = other` gave `p` new storage; the alias kept the old one
        alias._value = value
        share_value(alias)


def new_storage(t: Tensor) -> None:
    """`t.data = other`: `t` takes other storage, and the aliases it handed out keep the old
    one, as in PyTorch. Inside a trace only the trace's own aliases are forgotten; the
    compiled call forgets the others on each call (TraceResult.new_storage)."""
    mode = current_mode()
    if mode is None:
        t.__dict__.pop("_aliases", None)
        return
    refs = t.__dict__.get("_aliases")
    if refs and mode.records_graph:   # `t` was tracked (on_write): its value is a graph value
        graph_value = type(t._value)
        refs[:] = [r for r in refs if (a := r()) is not None and type(a._value) is not graph_value]
    mode.on_new_storage(t)
