"""Where a Python iterator stands, so that a trace which took items from one is noticed.

`next(batches)` inside a compiled function runs once, while tracing: the program holds the
item it got as a constant and would repeat it on every call. compiler/python_state.py takes
`position()` of each iterator the function reaches before the trace and compares it after;
an iterator that moved is a change of Python state, which a compiled program cannot repeat,
so the function is traced again on every call while it does, as for a random generator.

A file is an iterator too: a line read (`f.readline()`) or written (`log.write(...)`) inside
a compiled function happened once, while tracing; its `tell()` is its position.

A position is a comparable token: a generator's suspended instruction and locals, a Python
iterator's attributes, a built-in iterator's `__reduce__` (a list's or range's index, the
count of `enumerate` and `itertools.count`), each looked into a few levels deep (a
DataLoader's iterator holds a generator). An iterator whose progress none of these shows (a
C iterator without `__reduce__`) is not seen to move."""

from __future__ import annotations

import io
import types
import warnings

_PLAIN = (type(None), bool, int, float, complex, str, bytes)
_DEPTH = 4


def is_iterator(value) -> bool:
    return hasattr(type(value), "__next__")


def position(iterator, depth: int = _DEPTH):
    """A token that changes when `iterator` gives an item (see the module's docstring)."""
    if isinstance(iterator, _PLAIN):
        return iterator
    if depth <= 0 or not is_iterator(iterator):
        return ("is", id(iterator))   # NOTE: the caller keeps the iterator (and so this) alive
    if isinstance(iterator, io.IOBase):   # a file read or written: where it stands
        try:
            return ("file", iterator.tell())
        except (OSError, ValueError):     # a pipe, a terminal, a closed file
            return ("is", id(iterator))
    if isinstance(iterator, types.GeneratorType):
        frame = iterator.gi_frame
        if frame is None:
            return ("finished",)
        return ("generator", frame.f_lasti,
                tuple(position(v, depth - 1) for v in frame.f_locals.values()))
    state = getattr(iterator, "__dict__", None)
    if state is not None:
        return ("object", tuple((k, position(v, depth - 1)) for k, v in state.items()))
    try:
        with warnings.catch_warnings():   # itertools' pickling is deprecated from Python 3.12
            warnings.simplefilter("ignore", DeprecationWarning)
            reduced = iterator.__reduce__()
    except Exception:   # noqa: BLE001  (cannot say: compared by identity alone)
        return ("is", id(iterator))
    return ("reduced", _nested(reduced[1:] if isinstance(reduced, tuple) else (), depth - 1))


def _nested(values, depth: int):
    return tuple(_nested(v, depth) if type(v) is tuple else position(v, depth) for v in values)
