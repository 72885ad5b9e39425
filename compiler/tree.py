"""Flatten nested outputs (tuples, lists, dicts, namedtuples) to a list and rebuild them."""

from __future__ import annotations

import collections
import copy
import dataclasses

from graphnet._tensor import Tensor


def flatten(obj, objects: bool = False, made=None):
    """Return (leaves, rebuild) with rebuild(leaves) == obj's structure over new leaves.
    `objects`: a compiled call's return value, where a dataclass that holds tensors (an output
    object, `ModelOutput(loss=..., logits=...)`) is walked into too and rebuilt each call; so
    is an object of a plain class holding a tensor the trace made (`made`: their ids)."""
    if objects and made is not None:
        objects = _Made(made)
    leaves: list = []
    build = _walk(obj, leaves, objects)
    return leaves, lambda new_leaves: build(iter(new_leaves))


def _walk(x, leaves: list, objects: bool = False):
    """Append `x`'s leaves to `leaves`; return the function that rebuilds `x` from an iterator
    over new leaves.
    NOTE: a module function, not a closure of `flatten`: a recursive closure is a reference
    cycle that would keep `leaves` (a trace's returned tensors) alive until gc runs, and a
    traced tensor alive after its trace counts as kept by the code (compiler/tracer.py)."""
    kind = type(x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        parts = [_walk(v, leaves, objects) for v in x]
        return lambda it: kind(*[p(it) for p in parts])
    if kind is tuple or kind is list:
        parts = [_walk(v, leaves, objects) for v in x]
        return lambda it: kind(p(it) for p in parts)
    if kind is dict:
        parts = [(k, _walk(v, leaves, objects)) for k, v in x.items()]
        return lambda it: {k: p(it) for k, p in parts}
    if isinstance(x, (tuple, list, dict)) or (
            objects and dataclasses.is_dataclass(x) and not isinstance(x, type)) or (
            isinstance(objects, _Made) and _holds_made(x, objects)):
        return _walk_object(x, leaves, objects)
    leaves.append(x)
    return next


class _Made(frozenset):
    """The ids of the tensors a trace made, standing for `objects=True`."""

    def __bool__(self) -> bool:
        return True


def _holds_made(x, made: _Made, seen: set | None = None) -> bool:
    """Whether `x`, an object of a plain class of the user's (`Output(loss, logits)`, no
    dataclass), holds a tensor the trace made, directly, in a container attribute or in
    another such object it holds (a `MixtureSameFamily`'s `Categorical` and `Normal`): a
    result object built in the traced code. NOTE: kept whole as a leaf, its tensors were
    state the trace created (the step traced again on every call) and had no tape
    (`out.loss.backward()` raised; for a nested object until session 50). Modules and
    optimizers stay themselves."""
    from graphnet.nn import Module
    from graphnet.optim import Optimizer

    state = getattr(x, "__dict__", None)
    seen = set() if seen is None else seen
    if not isinstance(state, dict) or isinstance(x, (type, Tensor, Module, Optimizer)) \
            or type(x).__module__ == "builtins" or id(x) in seen:
        return False
    seen.add(id(x))
    for value in state.values():
        items = value.values() if isinstance(value, dict) else \
            value if isinstance(value, (list, tuple)) else (value,)
        if any(isinstance(v, Tensor) and id(v) in made or
               not isinstance(v, Tensor) and _holds_made(v, made, seen) for v in items):
            return True
    return False


def _walk_object(x, leaves: list, objects: bool):
    """A container of the user's own class (an OrderedDict subclass, a defaultdict, a list
    with a `tag`, a dataclass): its items and its attributes are walked; each rebuild is a
    copy of it, made without calling its constructor, holding the new values (attributes
    only for a return value). A dataclass that holds no tensor stays one leaf, the object
    itself (`return self.config`).
    NOTE: rebuilt as `kind(pairs)` before, an HF-style `@dataclass class Out(OrderedDict)`
    came back with a generator in its first field and the others lost."""
    start = len(leaves)
    names = [f.name for f in dataclasses.fields(x)] if dataclasses.is_dataclass(x) else []
    names += [n for n in getattr(x, "__dict__", ()) if n not in names]
    if not objects:   # arguments: their attributes are guarded as objects' (`attributed`)
        names = []
    attrs = [(n, _walk(getattr(x, n), leaves, objects)) for n in names]
    if isinstance(x, dict):
        items = [(k, _walk(v, leaves, objects)) for k, v in x.items()]
    else:
        items = [_walk(v, leaves, objects) for v in x] if isinstance(x, (tuple, list)) else []
    if not isinstance(x, (tuple, list, dict)) and \
            not any(isinstance(leaf, Tensor) for leaf in leaves[start:]):
        del leaves[start:]
        leaves.append(x)
        return next
    return _Rebuild(x, attrs, items)


def _dict_base(d) -> type:
    """The built-in class whose methods fill a dict of the user's class without calling its
    own: an OrderedDict keeps its order apart from the dict's, so `dict.clear` would break it."""
    return collections.OrderedDict if isinstance(d, collections.OrderedDict) else dict


class _Rebuild:
    """Builds a copy of a user's container (`_walk_object`) from new leaves. It keeps an
    emptied copy as its template, never the traced object: that would keep the trace's
    tensors alive (see `_walk`)."""

    def __init__(self, x, attrs, items):
        self.kind, self.attrs, self.items = type(x), attrs, items
        self.template = None
        if not isinstance(x, tuple):
            self.template = copy.copy(x)
            if isinstance(x, dict):
                _dict_base(x).clear(self.template)
            elif isinstance(x, list):
                list.clear(self.template)
            for name, _ in attrs:
                object.__setattr__(self.template, name, None)

    def __call__(self, it):
        attrs = [(name, p(it)) for name, p in self.attrs]   # walked first (`_walk_object`)
        if issubclass(self.kind, dict):
            values = [(k, p(it)) for k, p in self.items]
        else:
            values = [p(it) for p in self.items]
        if self.template is None:            # a tuple of the user's class
            new = tuple.__new__(self.kind, values)
        else:
            new = copy.copy(self.template)
            if isinstance(new, dict):
                base = _dict_base(new)
                for k, v in values:
                    base.__setitem__(new, k, v)
            elif isinstance(new, list):
                list.extend(new, values)
        for name, value in attrs:
            object.__setattr__(new, name, value)
        return new


def structure(obj):
    """A hashable description of how `obj` nests (container types, dict keys), with None
    for each leaf: two calls with equal structures flatten to leaves in the same places."""
    if isinstance(obj, (tuple, list)):
        return (type(obj), tuple(structure(v) for v in obj)) + _own_attributes(obj)
    if isinstance(obj, dict):
        return (type(obj), tuple((k, structure(v)) for k, v in obj.items())) + \
            _own_attributes(obj)
    return None


def attributed(obj, found: list | None = None) -> list:
    """The containers of the user's own classes in `obj` that hold attributes too (see
    `_own_attributes`): their attributes are guarded as an argument object's are."""
    found = [] if found is None else found
    if isinstance(obj, (tuple, list, dict)):
        if _own_attributes(obj):
            found.append(obj)
        for item in (obj.values() if isinstance(obj, dict) else obj):
            attributed(item, found)
    return found


def _own_attributes(obj) -> tuple:
    """For a container of the user's own class that holds attributes too (a parse tree node
    that is a list of its children with a `word`): the object, by identity, as an argument
    of another class is keyed (runtime/cache_key.py); its attributes are guarded
    (object_reads). NOTE: keyed by its items alone, a new tree of the same shape with other
    words ran the first tree's program."""
    held = getattr(obj, "__dict__", None)
    return (Same(obj),) if held else ()


class Same:
    """An object in a cache key by identity: equal only to itself, as a plain object's default
    hash keys it (the key holds the object, so its id is not reused). An unhashable argument
    (an `argparse.Namespace`, a dataclass with `eq=True`) is keyed so
    (runtime/cache_key.py); what the code reads from it is guarded
    (compiler/object_reads.py), and another object of equal contents traces again."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return type(other) is Same and other.value is self.value

    def __hash__(self):
        return id(self.value)

    def __repr__(self):
        return f"{type(self.value).__name__} object at {id(self.value):#x}"
