"""In-place layout ops on a view keep its storage ties (`t_()`, `transpose_`, `squeeze_`,
`unsqueeze_`; graphnet/_methods.py `_relayout_ties`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ._tensor import Tensor


def relayout(t: Tensor, forward: Callable, back: Callable) -> None:
    """`t` now holds `forward` of its old values, laid out anew in place (`t_()`,
    `transpose_`, `squeeze_`, `unsqueeze_`; `back` undoes it): its ties follow, as PyTorch's
    views keep their storage. A write through `t` gives its source `back` of the new values,
    the source's new values give `t` `forward` of its view, and the views taken of `t` before
    read `back` of `t`'s new values. Before, the ties kept the old layout: after
    `x = b.view(2, 3); x.t_()`, `x.mul_(2)` wrote `b` permuted, and a view of `x` taken
    before `x.unsqueeze_(0)` stopped following `x`'s writes."""
    write = t.__dict__.get("_view")
    if write is not None:
        t.__dict__["_view"] = lambda new: write(back(new))
        ref = t.__dict__.get("_view_of")
        source = ref() if ref is not None else None
        entries = source.__dict__.get("_views") if source is not None else None
        for k, (view_ref, view_forward, shape) in enumerate(entries or ()):
            if view_ref() is t:
                entries[k] = (view_ref, lambda s, f=view_forward: forward(f(s)), shape)
    views = t.__dict__.get("_views")
    if views:
        shape = tuple(t._value.shape)
        t.__dict__["_views"] = [(view_ref, lambda s, f=view_forward: f(back(s)), shape)
                                for view_ref, view_forward, _ in views]
