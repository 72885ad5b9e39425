"""`print(...)` inside traced code: an ordered effect of the compiled program, printed on every
call with that call's values.

While a trace runs, `builtins.print` reaches the tracer (graphnet/_mode.py `intercept_print`).
The tracer formats the line as Python would, but every traced tensor in it reads
`tensor(<traced %name>, grad_fn=<...>)` (graphnet/_format.py); `record_print` cuts the line at
those places into a `PrintEffect` (static text, and tensor slots naming a program output).
The tensors' values become extra outputs of the program (role `new`, target `print_<i>`,
after every other output), and the runtime writes each line after the call, in the order the
code printed them, formatting each slot with the eager tensor's own repr. A program with no
print has no such output, and the runtime does nothing more per call.

What a line can hold: tensors passed to print (also inside lists, tuples, dicts and sets),
strings formatted from tensors the trace computed (`f"loss {loss}"`; a 0-d one formats as
its number, `f"{loss:.4f}"`, as PyTorch's `Tensor.__format__` does), and any other Python
value, printed as it was while tracing. Refused with a `TraceError`: `file=` other than
`sys.stdout`/`sys.stderr` (the program cannot know which object the expression names on a
later call) and text holding a tensor's *concrete* value formatted before print saw it (an
f-string of a parameter no op had read yet: the line would repeat the traced value). A call
whose value checks fail (compiler/checks.py) raises and prints nothing."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import numpy as np

from graphnet._errors import TraceError
from graphnet._tensor import Tensor

from . import _source
from .traced_text import note_printed

# A traced tensor's repr (graphnet/_format.py): its graph value, then what the eager repr
# would show after the numbers: a dtype, its grad_fn or requires_grad.
_MARKER = re.compile(r"tensor\(<traced %(?P<name>[^>]*)>(?P<extras>(?:, (?:dtype=[\w.]+|"
                     r"grad_fn=<\w+>|requires_grad=True))*)(?:, format=(?P<spec>[0-9a-f]*))?\)")
_GRAD_FN = re.compile(r"grad_fn=<(\w+)>")
# a tensor's repr with its values: `tensor(1.)`, `tensor([...`, `tensor(-inf)`, `tensor(True)`
_CONCRETE = re.compile(r"tensor\((?:\[|-?\d|-?inf\b|nan\b|True\b|False\b)")
_STREAMS = ("stdout", "stderr", "__stdout__", "__stderr__")


@dataclass(frozen=True)
class TensorSlot:
    """Where a tensor's repr goes in a printed line: the print output holding its array, and
    what eager mode's repr adds after the values (`grad_fn=<...>`, `requires_grad=True`)."""

    output: int
    grad_fn: str | None
    requires_grad: bool
    spec: str | None = None     # a 0-d tensor formatted as a number (`f"{loss:.4f}"`)


class _GradFnName:
    """Stands in for a grad_fn when formatting: `format_tensor` only asks for its name."""

    def __init__(self, name: str):
        self._name = name

    def name(self) -> str:
        return self._name


@dataclass(eq=False)
class PrintEffect:
    """One `print` call of the traced code: `parts` are strings and `TensorSlot`s in order;
    `stream` names the `sys` attribute written to, looked up on each call as print does."""

    parts: tuple
    stream: str
    flush: bool

    def text(self, arrays) -> str:
        """The line with `arrays` (the print outputs of one call) in its slots."""
        from graphnet._format import format_tensor

        pieces = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            if part.spec is not None:
                pieces.append(np.asarray(arrays[part.output]).reshape(()).item()
                              .__format__(part.spec))
                continue
            shown = Tensor._wrap(arrays[part.output])
            if part.grad_fn is not None:
                shown.grad_fn = _GradFnName(part.grad_fn)
            shown.requires_grad = part.requires_grad
            pieces.append(format_tensor(shown))
        return "".join(pieces)

    def write(self, arrays) -> None:
        stream = getattr(sys, self.stream)
        if stream is None:          # sys.stdout is None (pythonw): print writes nothing
            return
        stream.write(self.text(arrays))
        if self.flush:
            stream.flush()


def emit(prints: list, arrays) -> None:
    """Write every line a compiled call printed, in order (`arrays`: its print outputs)."""
    for effect in prints:
        effect.write(arrays)


# ---- recording, while tracing -------------------------------------------------------------
def record_print(tracer, objects: tuple, sep: str, end: str, file, flush: bool) -> PrintEffect:
    """The `PrintEffect` of `print(*objects, sep=sep, end=end, file=file, flush=flush)` in
    `tracer`'s code; the values it shows are added to `tracer.print_values`."""
    stream = _stream_name(file)
    for obj in objects:
        for t in _tensors_in(obj):   # a captured tensor not read yet becomes a graph input
            tracer.value_of(t)
    text = sep.join(str(obj) for obj in objects) + end
    pieces, start = [], 0
    for match in _MARKER.finditer(text):
        note_printed(tracer, match.group("name"))
        value = _value_named(tracer, match.group("name"), text)
        grad_fn = _GRAD_FN.search(match.group("extras"))
        spec = match.group("spec")
        meta = (grad_fn.group(1) if grad_fn else None,
                grad_fn is not None or "requires_grad=True" in match.group("extras"),
                None if spec is None else bytes.fromhex(spec).decode())
        pieces += [text[start:match.start()], (value, meta)]
        start = match.end()
    pieces.append(text[start:])
    static = "".join(p for p in pieces if isinstance(p, str))
    if _CONCRETE.search(static):
        raise TraceError(
            f"print() inside a compiled function got text holding a tensor's values, "
            f"formatted before print saw it (at {_source.user_frame()}): the compiled "
            f"program would print those traced-time values on every call.\nPass the tensor "
            f"to print as its own argument (print('w:', w) instead of print(f'w: {{w}}')), "
            f"or format it outside the compiled function.")
    parts = []
    for piece in pieces:
        if isinstance(piece, str):
            if piece:
                parts.append(piece)
            continue
        value, (grad_fn, requires_grad, spec) = piece
        index = tracer.print_values.setdefault(value, len(tracer.print_values))
        parts.append(TensorSlot(index, grad_fn, requires_grad, spec))
    return PrintEffect(tuple(parts), stream, flush)


def branch_print_error() -> TraceError:
    return TraceError(f"print() inside a graphnet.cond / while_loop branch (at "
                      f"{_source.user_frame()}): the compiled program cannot print from inside "
                      f"a branch on every call. Print the branch's result after it, or run "
                      f"this code uncompiled.")


def _stream_name(file) -> str:
    if file is None:
        return "stdout"
    for name in _STREAMS:
        if file is getattr(sys, name):
            return name
    raise TraceError(
        f"print(..., file={type(file).__name__} object) inside a compiled function (at "
        f"{_source.user_frame()}): the compiled program prints on every call, to sys.stdout "
        f"or sys.stderr, but cannot know which object `file` names on a later call.\n"
        f"Print to sys.stdout or sys.stderr, or return the values and write them outside the "
        f"compiled function.")


def _tensors_in(obj, seen=None) -> list:
    """The tensors inside `obj`: itself, or nested in lists, tuples, dicts and sets."""
    if isinstance(obj, Tensor):
        return [obj]
    if not isinstance(obj, (list, tuple, dict, set, frozenset)):
        return []
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    items = [x for kv in obj.items() for x in kv] if isinstance(obj, dict) else obj
    return [t for x in items for t in _tensors_in(x, seen)]


def _value_named(tracer, name: str, text: str):
    for v in tracer.graph.inputs:
        if v.name == name:
            return v
    for node in tracer.graph.nodes:
        for v in node.outputs:
            if v.name == name:
                return v
    raise TraceError(f"print() inside a compiled function got text holding a tensor of "
                     f"another trace (%{name}): {text[:80]!r}. Pass the tensor itself to "
                     f"print, or print outside the compiled function.")
