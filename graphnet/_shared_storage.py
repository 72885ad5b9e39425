"""`Parameter(w)` shares `w`'s storage, as in PyTorch (graphnet/_tensor.py `Parameter`):
an in-place change of either reaches the other, also when `w` is a temporary alias or view
of another tensor (`Parameter(q.detach())`, `Parameter(q.t())`), whose tie is to `q`."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from ._aliases import _remember, new_storage, remember_alias
from ._autograd_data_swap import note_swap
from ._mode import current_mode

if TYPE_CHECKING:
    from ._tensor import Tensor


def share_storage(param: Tensor, data: Tensor) -> None:
    """`Parameter(w)` shares `w`'s storage, as in PyTorch: an in-place change of either
    reaches the other (`init.constant_(w, 0.5)` left p at w's old values). The tie back
    goes when `data` does, so a temporary (`Parameter(empty(3, 4))`) costs nothing later."""
    # NOTE: through a temporary alias or view (`Parameter(q.detach())`, `Parameter(q.t())`,
    # `p.data = q.data`) the tie is to `q` itself: the temporary's was lost with it, and
    # the parameter silently stopped following `q` (a decoder tied to `enc.weight.t()`)
    root = _aliased(data)
    if "_view_of" in root.__dict__ and _adopt_view(param, root):
        return
    remember_alias(root, param)
    from . import _overlap
    from ._storage_facts import _storage_address

    if _overlap.owner(root) is root:   # one storage, one address (`data_ptr()`)
        param.__dict__["_address"] = _storage_address(root)
    refs = param.__dict__.setdefault("_aliases", [])
    refs.append(weakref.ref(root, lambda ref: ref in refs and refs.remove(ref)))


def _aliased(t: Tensor) -> Tensor:
    """The tensor whose storage `t` shares whole: `t` unless it is a `.data` / `detach()`
    alias (of its `_base`, same shape and dtype), followed to the end."""
    while t._alias_src is not None and "_view_of" not in t.__dict__ \
            and t._alias_src._value.shape == t._value.shape and t._alias_src.dtype == t.dtype:
        t = t._alias_src
    return t


def _adopt_view(param: Tensor, view: Tensor) -> bool:
    """Make `param` the view `view` is of its source (`Parameter(q.t())`): it shows the
    source's new values and writes into them, as the temporary view did."""
    source = view.__dict__["_view_of"]()
    entry = next((e for e in (source.__dict__.get("_views") or ()) if source is not None
                  and e[0]() is view), None)
    if entry is None:
        return False
    state = param.__dict__
    for name in ("_view", "_storage", "_layout"):
        if name in view.__dict__:
            state[name] = view.__dict__[name]
    root = _aliased(source)
    forward = entry[1]
    state["_view_of"] = weakref.ref(root)
    state["_parameter_view"] = True     # an optimizer's store writes through (`store`)
    _remember(root, "_views", (weakref.ref(param), forward, tuple(root._value.shape)))
    return True


def share_data(t: Tensor, other: Tensor, mode=None) -> None:
    """`t.data = other` (eagerly; in a trace see `_traced_tie`): `t` leaves a storage it was
    tied to as a view, and shares `other`'s, as in PyTorch: an alias of another tensor or a
    view of one (`dec.weight.data = enc.weight.data`, `... = enc.weight.data.t()`,
    `p.data = flat[i:j].view_as(p)`) or a tensor itself (`b.weight.data = a.weight`). An
    in-place write or optimizer step of either then shows in the other.

    NOTE: only aliases and views of aliases used to be shared, so a hand-written "set the
    flat parameters" loop (`p.data = flat[i:j].view_as(p)`, then `flat.add_(1)`) and
    `b.weight.data = a.weight` left `t` a copy, where PyTorch's follow each other."""
    if mode is not None:
        if getattr(mode, "records_graph", False):
            _traced_tie(t, other, mode)
        return
    _untie(t)
    root = other
    while "_view_of" in root.__dict__:
        if root.__dict__["_view_of"]() is None:
            return
        root = root.__dict__["_view_of"]()
    share_storage(t, other)


def _untie(t: Tensor) -> None:
    """Drop the view tie `_adopt_view` gave `t` (it takes other storage now)."""
    state = t.__dict__
    if not state.pop("_parameter_view", False):
        return
    source = state.pop("_view_of", lambda: None)()
    for name in ("_view", "_storage", "_layout"):
        state.pop(name, None)
    views = source.__dict__.get("_views") if source is not None else None
    if views:
        views[:] = [entry for entry in views if entry[0]() is not t]


def _traced_tie(t: Tensor, other: Tensor, mode) -> None:
    """`t.data = other` inside a compiled function. `t` takes `other`'s values; the storage
    tie PyTorch makes is not state a program can create. It is noted when `other` is a view
    or alias of another tensor, or a tensor from outside the call (an argument, a parameter:
    `vector_to_parameters(theta, ...)`, `p.data = q`), and an in-place write to either side
    later in the trace raises (compiler/autodiff_versions.py `refuse_tied_write`): PyTorch's
    reaches both. NOTE: before, such a write silently reached one side only. After the call
    `t` holds the values and no tie: a write to `theta` between calls does not reach the
    parameters, where in PyTorch it does (re-run vector_to_parameters after changing it)."""
    root = other
    while True:
        source = root.__dict__.get("_view_of")
        if source is not None and source() is not None:
            root = source()
        elif root._alias_src is not None:
            root = root._alias_src
        else:
            break
    if root is not other or id(root) not in getattr(mode, "created_ids", ()):
        ties = mode.__dict__.setdefault("data_ties", {})
        ties[id(root)] = ties[id(t)] = (root, t)


def _own_leaf_value(other):
    """A traced leaf that requires grad given `other`'s values (PGD's `delta.data = (delta +
    a * delta.grad.sign()).clamp(-eps, eps)`): a copy of them without history, its own graph
    value. NOTE: holding `other`'s value, the leaf shared it with a tensor that has history
    (or with another leaf), and a later backward refused: which of them an op read cannot be
    told from the value."""
    from . import _autograd

    with _autograd.no_grad():
        return other.detach().clone()._value


def written_value(base, result):
    """What `base` holds after a write through its `.data` / `detach()` alias gave `result`:
    a non-leaf keeps its gradient (`Tensor._values_of`); a traced leaf that requires grad
    takes values of its own when `result` has history (`delta.data.copy_(d)`)."""
    if base.grad_fn is not None:
        return base._values_of(result)
    if base.requires_grad and result.grad_fn is not None:
        mode = current_mode()
        if mode is not None and mode.records_graph:
            return _own_leaf_value(result)
    return result._value


def set_data(t, other) -> None:
    """`t.data = other`: `t` takes `other`'s values, and its storage (`share_data`); earlier
    aliases of `t` keep the old storage, and a backward that saved `t` reads the new values
    (graphnet/_autograd_data_swap.py `note_swap`). Traced, a non-leaf keeps its own gradient
    as eagerly (`st = z * 1; st.data = q.data`, a straight-through step): before, it took
    `q`'s values with `q`'s graph, and the gradient went to the codebook, not to `z`."""
    mode = current_mode()
    if mode is not None:
        mode.on_write(t)
    new_storage(t)
    value = other._value
    if t.grad_fn is not None and mode is not None and mode.records_graph \
            and value.shape == t._value.shape and value.dtype == t._value.dtype:
        value = t._values_of(other)
    elif t.requires_grad and mode is not None and mode.records_graph:
        value = _own_leaf_value(other)
    note_swap(t, t._value, value)
    t._value = value
    share_data(t, other, mode)   # `dec.weight.data = enc.weight.data`: shared
