"""Text made from a traced tensor that leaves the trace: refused.

While tracing, `str(t)`, `repr(t)` and `f"{loss:.3f}"` of a traced tensor give a marker
(`tensor(<traced %sum>, ...)`, graphnet/_format.py), because the value is only known when the
compiled program runs. `print()` fills the marker in with each call's value
(compiler/prints.py). Any other way out kept the marker as the text: a compiled
`return f"{loss:.3f}"` returned `'tensor(<traced %sum>, format=2e3366)'`, and a
`log.append(f"loss={loss:.3f}")` or `self.last = str(loss)` kept it in Python state, on every
call and with no error. So at the end of a trace the returned value and the Python state the
trace changed (compiler/python_state.py) are searched for such text, and a `TraceError` names
where it went and the way out."""

from __future__ import annotations

from graphnet._errors import TraceError
from graphnet._tensor import Tensor

from .object_attributes import attributes

_MARK = "tensor(<traced %"
_LIMIT = 10_000     # values looked at per search: a trainer may hold a whole dataset


def _holds_text(value, budget: list, depth: int = 4) -> bool:
    """Whether `value` is, or holds (through containers and plain objects' attributes, a few
    levels down), a string with a traced tensor's marker."""
    budget[0] -= 1
    if budget[0] < 0:
        return False
    if isinstance(value, str):
        return _MARK in value
    if depth == 0 or isinstance(value, (Tensor, int, float, bytes, type(None))):
        return False
    if isinstance(value, dict):
        return any(_holds_text(k, budget, depth - 1) or _holds_text(v, budget, depth - 1)
                   for k, v in list(value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_text(v, budget, depth - 1) for v in list(value))
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict) and type(value).__module__ not in ("builtins",) \
            and not callable(value):
        return any(_holds_text(v, budget, depth - 1) for v in list(attributes.values()))
    return False


def _changed_values(watch):
    """(where, value) for each piece of Python state the trace changed."""
    for reads in watch.containers.values():
        for read in reads:
            if read.failure():
                yield read.what, read.read()
    for read in watch.reads:
        if read.failure():
            yield read.what, read.read()
    for ref, name, where, _had, _frozen, _old in watch.writes.values():
        module = ref()
        if module is not None and name in module.__dict__:
            yield f"{where}.{name}", module.__dict__[name]
    for where, obj, _before in watch.objects:
        for name, value in attributes(obj).items():   # `__slots__` objects too
            yield f"{where}.{name}", value


def refuse_kept_text(watch, returned) -> None:
    """Raise when the traced code returned, or kept in Python state, text made from a traced
    tensor (see the module docstring)."""
    if _holds_text(returned, [_LIMIT]):
        raise TraceError(_message("is returned by the compiled function"))
    if not watch.changes():
        return
    budget = [_LIMIT]
    for where, value in _changed_values(watch):
        if _holds_text(value, budget):
            raise TraceError(_message(f"is kept in Python state ({where})"))


def _message(where: str) -> str:
    return (f"text made from a traced tensor (str(t), repr(t), f'{{loss:.3f}}') {where}: its "
            f"value is only known when the compiled program runs, so every call would give "
            f"the trace's placeholder instead. Return or keep the tensor and format it after "
            f"the call (`loss = step(x); f'{{loss:.3f}}'`), or print() it inside the function "
            f"(a print shows each call's values).")
