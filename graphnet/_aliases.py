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
    training, holds the trained values, as in PyTorch). Eager only: a trace's values are
    graph nodes, and the compiled call writes the results back eagerly."""
    refs = t.__dict__.get("_aliases")
    if not refs or current_mode() is not None:
        return
    value = t._value
    for ref in refs:
        alias = ref()
        if alias is None or alias._value is value:
            continue
        old = alias._value
        if old.shape != value.shape or old.dtype != value.dtype:
            continue   # `p.data = other` gave `p` new storage; the alias kept the old one
        alias._value = value
        share_value(alias)
