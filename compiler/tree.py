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
        return (type(obj), tuple(structure(v) for v in obj))
    if isinstance(obj, dict):
        return (type(obj), tuple((k, structure(v)) for k, v in obj.items()))
    return None
