"""What an object of the user's own holds: its `__dict__` and its slots (compiler/object_reads.py
and compiler/python_state.py guard and watch these)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=4096)
def _slot_names(cls) -> tuple:
    """The `__slots__` names of `cls` and its bases (a tree node class with `__slots__` has no
    `__dict__`: it was never guarded, and a relabelled leaf kept the old program)."""
    names = []
    for klass in cls.__mro__:
        slots = vars(klass).get("__slots__", ())
        names += [slots] if isinstance(slots, str) else [n for n in slots if isinstance(n, str)]
    return tuple(n for n in names if n not in ("__dict__", "__weakref__"))


def attributes(obj) -> dict:
    """What an object holds itself: its `__dict__` and the slots it has set."""
    held = dict(getattr(obj, "__dict__", None) or {})
    for name in _slot_names(type(obj)):
        if hasattr(obj, name):
            held[name] = getattr(obj, name)
    return held


def held_items(path: str, obj, count: int) -> list:
    """(path, item) for the first `count` items of a list, tuple or dict."""
    if isinstance(obj, dict):
        return [(f"{path}[{key!r}]", item) for key, item in list(obj.items())[:count]]
    return [(f"{path}[{i}]", item) for i, item in enumerate(obj[:count])]


def walk_held(where: str, value, depth: int, limit: int, found: list, children) -> list:
    """Breadth first from `value`, `depth` levels down, each object once: `children(path,
    obj)` notes what it wants in `found` and returns the (path, item) pairs to go on to;
    stops once `found` holds `limit`. Returns `found`."""
    seen, level = set(), [(where, value)]
    for _ in range(depth + 1):
        deeper = []
        for path, obj in level:
            if id(obj) in seen or len(found) >= limit:
                continue
            seen.add(id(obj))
            deeper += children(path, obj)
        level = deeper
    return found
