"""Process state the user's code reads through library objects whose identity never
changes, guarded by value: a `contextvars.ContextVar`'s current value (an adapter switch a
context manager sets: `with disable_adapters():`), and the environment (`os.environ`,
`os.getenv`). The objects themselves are the same on every call, so the guards of globals
and attributes (compiler/code_reads.py) saw nothing change and the old program ran; now a
changed value compiles again, as any other Python value the code read."""

from __future__ import annotations

import contextvars
import itertools
import os

from .guards import record

_ENVIRONMENT_NAMES = frozenset({"environ", "environb", "getenv", "getenvb"})
_UNSET = object()   # what `var.get(_UNSET)` gives for a variable with no value (and no default)


def ambient_reads(names, values) -> list:
    """Reads for the ContextVars among `values` (the globals, closure cells and attributes
    the code reached, and the items of those that are lists, tuples or dicts), and for the
    environment when the code loads `os.environ` / `os.getenv` (`names`: the attribute
    names the user's code loads) or reached either."""
    reads, done = [], set()
    for value in _with_items(values):
        if isinstance(value, contextvars.ContextVar) and id(value) not in done:
            done.add(id(value))
            reads.append(record(f"context variable {value.name!r} has the value traced",
                                lambda var=value: var.get(_UNSET)))
    if names & _ENVIRONMENT_NAMES or any(v is os.environ or v is os.getenv for v in values):
        reads.append(record("the environment (os.environ) is as traced", _environment))
    return reads


def _with_items(values):
    for value in values:
        yield value
        if isinstance(value, (list, tuple)):
            yield from value
        elif isinstance(value, dict):
            yield from value.values()


def _environment() -> tuple:
    """os.environ's entries as one flat tuple of bytes/str (compared at C speed)."""
    return tuple(itertools.chain.from_iterable(os.environ._data.items()))
