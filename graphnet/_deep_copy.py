"""`copy.deepcopy` of tensors and parameters, with the ties between the tensors of one copy
kept as PyTorch's copied storage keeps them (`Tensor.__deepcopy__`, `Parameter.__deepcopy__`
and `__reduce_ex__`); the ties themselves are graphnet/_aliases.py's."""

from __future__ import annotations

import copy
import functools
import types
import weakref
from typing import TYPE_CHECKING

from ._aliases import VIEW_FACTS, _remember, pickled_state, remember_alias, restore_state
from ._mode import current_mode

if TYPE_CHECKING:
    from ._tensor import Tensor


LEAF_ONLY = ("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
             "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
             "because of a torch.nn.utils.weight_norm usage, see "
             "https://github.com/pytorch/pytorch/pull/103001")


def deep_copy(t: Tensor, memo: dict) -> Tensor:
    """`copy.deepcopy(t)` (Tensor.__deepcopy__): its values, autograd flags, `.grad` and
    attributes, and its ties to the other tensors of the same copy, as PyTorch's copied
    storage keeps them: the copy of a view (`copy.deepcopy([b, b[1]])`, a module's buffer
    that is a view of another) is a view of its source's copy, the copy of an alias
    (`.data`, `detach()`) an alias of its base's copy. Never of the original's: a write to
    a copy stays in the copy."""
    if t.grad_fn is not None:
        raise RuntimeError(LEAF_ONLY)
    tie = _tie_of(t)
    source = _source_copy(tie[1], memo) if tie else None   # the source first, as a storage
    if id(t) in memo:
        return memo[id(t)]
    new = object.__new__(type(t))
    memo[id(t)] = new
    restore_state(new, copy.deepcopy(pickled_state(t, keep_grad=True, leave=VIEW_FACTS), memo))
    if tie is None:
        return new
    kind, original, forward = tie
    if kind == "alias":
        new._alias_src = source
        remember_alias(source, new)
        return new
    swap = {id(original): (original, source), id(t): (t, new)}
    facts = {k: _rebind(v, swap) for k, v in t.__dict__.items()
             if k in ("_view_forward", "_overlap_index", "_over")}
    write, forward = _rebind(t.__dict__["_view"], swap), _rebind(forward, swap)
    if any(_reaches(f, (original, t)) for f in (write, forward, *facts.values())):
        return new    # a write-back we cannot point at the copy: a copy of the values alone
    from ._overlap import owner

    # (no `_view_base`: PyTorch's deep copy of a view shares its source copy's storage but
    # is no view, `_base` None)
    facts.update(_view=write, _storage=owner(source))
    if "_view_source" in t.__dict__:
        facts["_view_source"] = source
    new.__dict__.update(facts)
    _remember(source, "_views", (weakref.ref(new), forward, tuple(source._value.shape)))
    return new


def _source_copy(source: Tensor, memo: dict) -> Tensor:
    """The copy, in this deep copy, of the tensor a view or alias shows. NOTE: a Parameter's
    copy is a clone of its own (PyTorch's Parameter.__deepcopy__), so the copies of its
    views and aliases (`w.detach()[0]`, a `state_dict()` value) share a copy of its values
    that is not the parameter's copy, as PyTorch's copied storage does."""
    from ._tensor import Parameter, Tensor

    if not isinstance(source, Parameter):
        return copy.deepcopy(source, memo)
    key = ("graphnet parameter storage", id(source))
    if key not in memo:
        memo[key] = storage = object.__new__(Tensor)
        _, slots = pickled_state(source)
        restore_state(storage, (None, {**slots, "requires_grad": False}))
        if "_layout" in source.__dict__:
            storage.__dict__["_layout"] = source.__dict__["_layout"]
    return memo[key]


def parameter_copy(p, memo: dict):
    """`copy.deepcopy` of a Parameter, as PyTorch's Parameter.__deepcopy__: a parameter of
    the same class with a copy of the values and `requires_grad`; its `.grad` and
    attributes stay with the original."""
    from ._parameter import _fill
    from ._tensor import Tensor

    new = object.__new__(type(p))
    _, slots = pickled_state(p)
    restore_state(new, (None, {"_value": slots["_value"]}))
    _fill(new, Tensor._wrap(new._value), p.requires_grad)
    if "_layout" in p.__dict__:    # PyTorch's clone keeps the strides (preserve_format)
        new.__dict__["_layout"] = p.__dict__["_layout"]
    memo[id(p)] = new
    return new


def parameter_reduce(p):
    """`pickle` of a Parameter (Parameter.__reduce_ex__): its values and `requires_grad`, and
    its attributes (`w.foo = 5`) as PyTorch's _rebuild_parameter_with_state keeps them;
    not its `.grad`."""
    from ._tensor import Parameter, Tensor

    args = (Tensor._wrap(p._value), p.requires_grad)
    state, _ = pickled_state(p, leave=VIEW_FACTS)
    return (Parameter, args) if not state else (Parameter, args, (state, {}))


def _tie_of(t: Tensor):
    """("view", source, forward) when `t` is a view its source still updates, ("alias",
    base, None) when it is such an alias; None for a tensor of its own. A non-leaf source
    (`with no_grad(): v = h[0]`) cannot be copied (LEAF_ONLY): `t`'s copy has its own values.
    NOTE: inside a trace too, where a copy's ties would be the trace's to follow."""
    from ._tensor import Tensor

    if current_mode() is not None:
        return None
    write = t.__dict__.get("_view")
    if write is not None:
        for cell in write.__closure__ or ():
            source = _contents(cell)
            if isinstance(source, Tensor) and source is not t and source.grad_fn is None:
                for entry in source.__dict__.get("_views") or ():
                    if entry[0]() is t:
                        return "view", source, entry[1]
        return None
    base = t._alias_src
    if base is not None and base.grad_fn is None and \
            any(ref() is t for ref in base.__dict__.get("_aliases") or ()):
        return "alias", base, None
    return None


def _rebind(value, swap: dict, seen=None):
    """`value`, a view's write-back or forward function, with the tensors of `swap` (id ->
    (original, copy)) replaced by their copies in its closure and the closures of the
    functions it calls from there; any other value as it is."""
    if not isinstance(value, types.FunctionType) or not value.__closure__:
        return value
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return value
    seen.add(id(value))
    cells, changed = [], False
    for cell in value.__closure__:
        inside = _contents(cell)
        pair = swap.get(id(inside))
        new = pair[1] if pair is not None and pair[0] is inside else _rebind(inside, swap, seen)
        changed |= new is not inside
        cells.append(types.CellType(new) if new is not inside else cell)
    if not changed:
        return value
    return types.FunctionType(value.__code__, value.__globals__, value.__name__,
                              value.__defaults__, tuple(cells))


def _reaches(value, originals: tuple, seen=None) -> bool:
    """Whether function `value` still holds one of `originals` (in its closure, the
    closures of the functions there, or a tuple or list there): copying such a view's tie
    would let the copy write into the original."""
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return False
    seen.add(id(value))
    if any(value is o for o in originals):
        return True
    if isinstance(value, (tuple, list)):
        return any(_reaches(v, originals, seen) for v in value)
    if isinstance(value, functools.partial):
        parts = (value.func, *value.args, *value.keywords.values())
        return any(_reaches(v, originals, seen) for v in parts)
    if isinstance(value, types.FunctionType):
        return any(_reaches(_contents(c), originals, seen) for c in value.__closure__ or ())
    return False


def _contents(cell):
    """A closure cell's value; a cell not filled yet is its own."""
    try:
        return cell.cell_contents
    except ValueError:
        return cell
