"""Text made from a traced tensor that leaves the trace: refused.

While tracing, `str(t)`, `repr(t)` and `f"{loss:.3f}"` of a traced tensor give a marker
(`tensor(<traced %sum>, ...)`, graphnet/_format.py), because the value is only known when the
compiled program runs. `print()` fills the marker in with each call's value
(compiler/prints.py). Any other way out kept the marker as the text: a compiled
`return f"{loss:.3f}"` returned `'tensor(<traced %sum>, format=2e3366)'`, and a
`log.append(f"loss={loss:.3f}")` or `self.last = str(loss)` kept it in Python state, on every
call and with no error. So at the end of a trace the returned value and the Python state the
trace changed (compiler/python_state.py) are searched for such text, and a `TraceError` names
where it went and the way out.

Text that leaves by no such road, and not through print() either (`logging.info(f"loss
{loss:.2f}")`, `warnings.warn(...)`, `sys.stdout.write(...)`, or code that measures or
compares it: `len(f"{x:.1f}")`, `"nan" in str(loss)`), was the trace's placeholder on every
call, silently: a compiled step computed with the placeholder's length. So the trace counts
the texts made of each traced value (`note_text`, from graphnet/_format.py) and the ones
print() took (`note_printed`, compiler/prints.py); a value formatted more often than printed
is refused when the trace ends (`refuse_unprinted_text`). Known gap: text both printed and
used otherwise (`print(s); n = len(s)`) counts as printed."""

from __future__ import annotations

import os
import sys
from collections import Counter

from graphnet._errors import TraceError
from graphnet._tensor import Tensor

from . import _source
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


def _root(tracer):
    while getattr(tracer, "parent", None) is not None:   # a branch's or vmap's SubTracer
        tracer = tracer.parent
    return tracer


# the tensor's own formatting, between `note_text` and the code that made the text
_FORMATTING = frozenset(("_format.py", "_tensor.py", "_tensor_extras.py", "traced_text.py"))


def _made_by_user() -> bool:
    """Whether the code making the text is the user's: graphnet's own (an error message that
    names a traced value, print's own str()) is not counted."""
    frame = sys._getframe(1)
    while frame is not None and os.path.basename(frame.f_code.co_filename) in _FORMATTING:
        frame = frame.f_back
    return frame is None or not frame.f_code.co_filename.startswith(_source.OWN)


def note_text(tracer, value) -> None:
    """The traced code made text of `value` (a traced tensor's repr or format)."""
    if _made_by_user():
        _root(tracer).__dict__.setdefault("texts_made", Counter())[str(value)] += 1


def note_printed(tracer, name: str) -> None:
    """print() took the text of the traced value `%name`."""
    _root(tracer).__dict__.setdefault("texts_printed", Counter())["%" + name] += 1


def refuse_unprinted_text(tracer) -> None:
    """Raise when some text made from a traced tensor went anywhere but print()."""
    made = tracer.__dict__.get("texts_made")
    if not made:
        return
    printed = tracer.__dict__.get("texts_printed", Counter())
    for name, count in made.items():
        if count > printed[name]:
            raise TraceError(_message(
                f"({name}) went somewhere other than print() (logging, warnings.warn, "
                f"a stream's write(), an exception's message, or code that measures or "
                f"compares the text)"))
