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
