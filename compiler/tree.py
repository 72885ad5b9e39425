"""Flatten nested outputs (tuples, lists, dicts, namedtuples) to a list and rebuild them."""

from __future__ import annotations


def flatten(obj):
    """Return (leaves, rebuild) with rebuild(leaves) == obj's structure over new leaves."""
    leaves: list = []

    def walk(x):
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            parts = [walk(v) for v in x]
            return lambda it: type(x)(*[p(it) for p in parts])
        if isinstance(x, (tuple, list)):
            parts = [walk(v) for v in x]
            kind = type(x)
            return lambda it: kind(p(it) for p in parts)
        if isinstance(x, dict):
            parts = [(k, walk(v)) for k, v in x.items()]
            kind = type(x)
            return lambda it: kind((k, p(it)) for k, p in parts)
        leaves.append(x)
        return lambda it: next(it)

    build = walk(obj)
    return leaves, lambda new_leaves: build(iter(new_leaves))


def structure(obj):
    """A hashable description of how `obj` nests (container types, dict keys), with None
    for each leaf: two calls with equal structures flatten to leaves in the same places."""
    if isinstance(obj, (tuple, list)):
        return (type(obj), tuple(structure(v) for v in obj))
    if isinstance(obj, dict):
        return (type(obj), tuple((k, structure(v)) for k, v in obj.items()))
    return None
