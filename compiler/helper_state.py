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
import sys
import types

from graphnet._tensor import Tensor
from graphnet.nn import Module
from graphnet.optim import Optimizer

from .guards import _global_names, freeze, matches

_WATCHED = (Module, Optimizer, type)

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


def note_self(frame, selves: dict) -> None:
    """At the call of a function of the user's, freeze the plain attributes of the object its
    first argument holds (a method's `self`, whatever its name), once per object: a logger's
    `self.calls += 1` reached through `functools.partial(logger.log)` or a module's
    `self.on_step = logger.log`.
    graphnet's modules and optimizers are watched by python_state.py; tensors are not state
    here (an escaped tensor is the tracer's)."""
    obj = frame.f_locals.get(frame.f_code.co_varnames[0])
    if obj is None or id(obj) in selves or isinstance(obj, _WATCHED):
        return
    if frame.f_code.co_name in ("__init__", "__post_init__"):
        selves[id(obj)] = None      # made by the traced code: set anew on every call
        return
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict) and _user_class(type(obj)):
        selves[id(obj)] = (obj, _plain_attributes(state))


@functools.lru_cache(maxsize=1024)
def _user_class(cls) -> bool:
    """A class of the user's own code (not a tensor, not a library's object)."""
    from .code_reads import _is_user_file

    module = sys.modules.get(cls.__module__)
    return _is_user_file(getattr(module, "__file__", None) or "")


def _plain_attributes(state: dict) -> dict:
    return {k: freeze(v) for k, v in state.items() if not isinstance(v, Tensor)}


def self_changes(selves: dict) -> list[str]:
    """A Python change for each attribute of a user's object that its methods changed."""
    found = []
    for obj, before in filter(None, selves.values()):
        now = {k: v for k, v in vars(obj).items() if not isinstance(v, Tensor)}
        for name in sorted(set(before) | set(now)):
            if name not in now or name not in before or not matches(before[name], now[name]):
                found.append(f"{type(obj).__qualname__}.{name} (set by its own method)")
    return found


def logging_changes(logged: list) -> list[str]:
    """A Python change for each place the traced code emitted a logging record: a compiled
    call would not emit it again (print() is replayed by the program; logging is not)."""
    return [f"a logging record was emitted at {where} (the Python code runs on every call "
            f"so that it logs each time)" for where in logged]
