"""A tensor that is an alias of another tensor's storage (`_base`: a `.data` alias, or a
parameter vector_to_parameters tied to a slice of `vec`), written as a whole: its base takes
the new values (`store_through`), or it leaves the base (`leave_base`, `t.data = other`),
and the views and aliases `t` handed out keep its old storage (`keep_old_storage`).
Called by graphnet/_aliases.py's `store` and `new_storage`, eagerly only."""

from __future__ import annotations

from ._aliases import (_target, remember_alias, remember_view, share_value,
                       write_through_view)
from ._autograd import no_grad, note_alias_write
from ._rebound_views import rebound
from ._tensor import Tensor


def store_through(t: Tensor) -> None:
    """`t`, an alias of another tensor's storage (`p.data = vec[i:j]` by
    vector_to_parameters, `w = p.data`), took new values in place: its base takes them too,
    and a base that is a view writes them on to its source, as `Tensor._assign` does for an
    in-place op. NOTE: an optimizer step stored a parameter's new values in the parameter
    alone, so the next in-place write to any sibling parameter (a clamp_) gave every
    parameter its slice of the stale vector again: the step was silently undone."""
    alias, base = t, t._alias_src
    while base is not None:
        value = alias._value
        if base._value.shape != value.shape or base._value.dtype != value.dtype:
            return
        note_alias_write(alias, base, value)
        base._value = value
        share_value(base)
        if "_view" in base.__dict__:
            with no_grad():
                write_through_view(base, base.__dict__["_view"])
        alias, base = base, base._alias_src


def leave_base(t: Tensor) -> None:
    """`t.data = other` on an alias of another tensor's storage (a parameter that
    vector_to_parameters tied to `vec`): `t` no longer shares it. Before, a later write to
    `vec` gave `t` the old slice back over its new data."""
    base = t._alias_src
    refs = None if base is None else base.__dict__.get("_aliases")
    if refs and any(r() is t for r in refs):
        refs[:] = [r for r in refs if (a := r()) is not None and a is not t]
        t._alias_src = None


def keep_old_storage(t: Tensor) -> None:
    """Before `t.data = other`: the views and aliases `t` handed out move to a holder of
    `t`'s old values, so that a write through one reaches the others (they share the old
    storage) and not `t`. Before, `v = a[1:3]; a.data = zeros(4); v.mul_(10)` wrote into
    `a`'s new values."""
    views = [(v, forward) for r in t.__dict__.get("_views") or ()
             if (v := _target(r)) is not None for forward in (r[1],)]
    aliases = [a for r in t.__dict__.get("_aliases") or () if (a := r()) is not None]
    if not views and not aliases:
        return
    old = Tensor._wrap(t._value)
    for view, forward in views:
        if "_view" in view.__dict__:
            view.__dict__["_view"] = rebound(view.__dict__["_view"], t, old)
        remember_view(old, view, forward)
    for alias in aliases:
        if alias._alias_src is t:
            alias._alias_src = old
        remember_alias(old, alias)
