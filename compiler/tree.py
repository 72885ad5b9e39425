"""Flatten nested outputs (tuples, lists, dicts, namedtuples) to a list and rebuild them."""

from __future__ import annotations


def flatten(obj):
    """Return (leaves, rebuild) with rebuild(leaves) == obj's structure over new leaves."""
    leaves: list = []
    build = _walk(obj, leaves)
    return leaves, lambda new_leaves: build(iter(new_leaves))


def _walk(x, leaves: list):
    """Append `x`'s leaves to `leaves`; return the function that rebuilds `x` from an iterator
    over new leaves.
    NOTE: a module function, not a closure of `flatten`: a recursive closure is a reference
    cycle that would keep `leaves` (a trace's returned tensors) alive until gc runs, and a
    traced tensor alive after its trace counts as kept by the code (compiler/tracer.py)."""
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        parts = [_walk(v, leaves) for v in x]
        kind = type(x)
        return lambda it: kind(*[p(it) for p in parts])
    if isinstance(x, (tuple, list)):
        parts = [_walk(v, leaves) for v in x]
        kind = type(x)
        return lambda it: kind(p(it) for p in parts)
    if isinstance(x, dict):
        parts = [(k, _walk(v, leaves)) for k, v in x.items()]
        kind = type(x)
        return lambda it: kind((k, p(it)) for k, p in parts)
    leaves.append(x)
    return next


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
