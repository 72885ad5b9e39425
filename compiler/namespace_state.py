"""Python state the user's classes and functions hold themselves.

`class C: n = 0` and `C.n += 1` in a compiled function (or `setattr(C, "n", ...)`,
`type(self).calls += 1` in a module's forward, `C.hist.append(shape)`, a staticmethod counting
in a list the class holds, `f.calls += 1` on a function object) change a class's or a
function's own `__dict__`: Python state, as an instance's attributes are. A compiled call runs
the program, not that code, so the counter moved once, while tracing (1, 1, 1 where Python
counts 1, 2, 3). compiler/python_state.py snapshots the namespaces `namespaces` finds before
the trace as it does the user's objects, so a trace that changed one makes the next call run
the Python code again."""

from __future__ import annotations

import types

from .guards import _is_library
from .object_reads import _user_class, _user_module


def namespaces(values, names=frozenset(), depth: int = 2) -> list:
    """(where, namespace) for the user's classes and functions among `values`, one each: a
    user function; a user class and its user bases; the class of an object of a user class
    (`type(self).k = ...`); the classes a user class holds (`Outer.Inner.n += 1`) and those a
    user module holds under one of `names` (`config.Registry.count += 1`), `depth` levels."""
    found, seen = [], set()

    def where(namespace) -> str:    # `Outer.Inner`, not `make.<locals>.Outer.Inner`
        return namespace.__qualname__.rpartition("<locals>.")[2]

    def visit(value, level: int):
        if isinstance(value, (types.MethodType, staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, types.FunctionType):
            if id(value) not in seen and not _is_library(value):
                seen.add(id(value))
                found.append((where(value), value))
            return
        if isinstance(value, types.ModuleType):
            if level < depth and _user_module(value):
                state = vars(value)
                for name in sorted(names & state.keys()):
                    if isinstance(state[name], type):
                        visit(state[name], level + 1)
            return
        cls = value if isinstance(value, type) else type(value)
        if id(cls) in seen or not _user_class(cls):
            return
        for klass in cls.__mro__:
            if id(klass) in seen or not _user_class(klass):
                continue
            seen.add(id(klass))
            found.append((where(klass), klass))
            if level < depth:
                for held in list(vars(klass).values()):
                    if isinstance(held, type):
                        visit(held, level + 1)

    for value in values:
        visit(value, 0)
    return found


def is_dunder(name: str) -> bool:
    """`__doc__`, `__annotations__` ...: Python's own entries of a namespace, left out of the
    snapshots (`C.__annotations__` is made on first read, which changes nothing)."""
    return name.startswith("__") and name.endswith("__")
