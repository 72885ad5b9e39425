"""Python state the user's helpers change while tracing, seen as each first runs.

The Python code a compiled call skips includes every helper it called: a counter in another
module (`utils.bump()` doing `global CALLS; CALLS += 1`, `RECORDS.append(x)`) or a logging
record (`log.info("step")`). python_state.py watches what the traced function reaches before
the trace starts; a helper's module is known only once the helper runs, so the tracer's
`CodeRecorder` (code_reads.py) freezes the globals each function of the user's loads or
stores at its first call, and a trace after which one differs, or which emitted a logging
record, is a Python change: the next call traces again, so the code runs on every call.
NOTE: before, such a counter moved once, while tracing, and the guards then read its new
value as the traced one; a `log.info` in a compiled step logged on two calls of five."""

from __future__ import annotations

import dis
import functools
import logging
import types

from .guards import _global_names, freeze, matches

# A logging record on its way to the handlers (Logger.handle runs only for an enabled level)
_EMIT = logging.Logger.handle.__code__
_MISSING = object()


def _globals_before(code, module_globals) -> tuple:
    """The globals `code` loads or stores, frozen before its first run in the trace."""
    names = _global_names(code) | _stored_globals(code)
    return module_globals, {n: freeze(module_globals.get(n, _MISSING)) for n in names}


@functools.lru_cache(maxsize=4096)
def _stored_globals(code) -> frozenset:
    found = {i.argval for i in dis.get_instructions(code)
             if i.opname in ("STORE_GLOBAL", "DELETE_GLOBAL")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _stored_globals(const)
    return frozenset(found)


def global_changes(first: dict) -> list[str]:
    """A Python change for each global a function of the user's that ran changed
    (`utils.bump()` doing `global CALLS; CALLS += 1`, `RECORDS.append(x)` in another module):
    a compiled call would not repeat it. NOTE: only the traced function's own globals and
    those of functions it reaches were watched (python_state.py); a helper module's counter
    moved once, while tracing, and the guards then read its new value as the traced one."""
    found, done = [], set()
    for code, (module_globals, before) in first.items():
        for name, frozen in before.items():
            key = (id(module_globals), name)
            if key in done:
                continue
            done.add(key)
            if not matches(frozen, module_globals.get(name, _MISSING)):
                module = module_globals.get("__name__", "?")
                found.append(f"global {module}.{name} (changed by {code.co_qualname})")
    return found


def logging_changes(logged: list) -> list[str]:
    """A Python change for each place the traced code emitted a logging record: a compiled
    call would not emit it again (print() is replayed by the program; logging is not)."""
    return [f"a logging record was emitted at {where} (the Python code runs on every call "
            f"so that it logs each time)" for where in logged]
