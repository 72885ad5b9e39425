"""A tensor that is an alias of another tensor's storage (`_base`: a `.data` alias, or a
parameter vector_to_parameters tied to a slice of `vec`), written as a whole: its base takes
the new values (`store_through`), or it leaves the base (`leave_base`, `t.data = other`).
Called by graphnet/_aliases.py's `store` and `new_storage`, eagerly only."""

from __future__ import annotations

from ._aliases import share_value, write_through_view
from ._autograd import no_grad, note_alias_write
from ._tensor import Tensor


def store_through(t: Tensor) -> None:
    """`t`, an alias of another tensor's storage (`p.data = vec[i:j]` by
    vector_to_parameters, `w = p.data`), took new values in place: its base takes them too,
    and a base that is a view writes them on to its source, as `Tensor._assign` does for an
    in-place op. NOTE: an optimizer step stored a parameter's new values in the parameter
    alone, so the next in-place write to any sibling parameter (a clamp_) gave every
    parameter its slice of the stale vector again: the step was silently undone."""
    alias, base = t, t._base
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
        alias, base = base, base._base


def leave_base(t: Tensor) -> None:
    """`t.data = other` on an alias of another tensor's storage (a parameter that
    vector_to_parameters tied to `vec`): `t` no longer shares it. Before, a later write to
    `vec` gave `t` the old slice back over its new data."""
    base = t._base
    refs = None if base is None else base.__dict__.get("_aliases")
    if refs and any(r() is t for r in refs):
        refs[:] = [r for r in refs if (a := r()) is not None and a is not t]
        t._base = None
