"""Python attributes the user sets on tensors (`x.scale = 2.0`, `w.mask_id = 3`), read by the
traced code.

An attribute a tensor holds in its own `__dict__` is plain Python: the trace reads it and the
program keeps the number it got. Before, nothing guarded it: `def f(x): return x * x.scale`
compiled gave 1, 1, 1 for arguments whose `scale` was 1, 2, 5 (eager: 1, 2, 5). So:

- for a tensor *argument*, `ArgumentAttributes` checks, on every call, the attributes of the
  tensor passed at the same position (a guard cannot: it is bound to the first call's
  objects). runtime/compiled.py takes it out of the guard list (`take_argument_attributes`)
  and calls `failure(leaves)` with each call's flattened arguments; a value that differs, or a
  name the code reads as a string (`getattr(x, "scale", 1.0)`, `hasattr`) that is set now but
  was not when traced, traces again;
- for a tensor the code reached otherwise (a global, a closure cell, an attribute of the
  user's object, a lifted parameter), the tensor is the same object on every call, so a plain
  guard reads each attribute it holds that the code names (`W.scale = 3.0` after compiling).

Which attributes: those the user's code that ran names as attributes (or as strings), as in
compiler/object_reads.py; names the Tensor class defines (`shape`, `grad`) are not in
`__dict__`, and graphnet's own entries (`_view`, `_storage`) are names no user code loads."""

from __future__ import annotations

import functools
import types

from graphnet._tensor import Tensor

from .guards import freeze, matches, record

_MISSING = object()


class ArgumentAttributes:
    """The attributes of tensor arguments a trace read. `present`: (leaf index, argument
    name, attribute, frozen value); `absent`: (leaf index, argument name, names the code read
    as strings that the tensor did not hold)."""

    def __init__(self, present: list, absent: list, offsets: list = ()):
        self.present, self.absent = present, absent
        self.offsets = offsets   # (leaf index, name, storage offset) where the code read one

    def __call__(self) -> None:
        """As a guard it checks nothing: it needs the call's arguments (`failure`)."""
        return None

    def failure(self, leaves) -> str | None:
        for i, arg, name, frozen in self.present:
            try:
                ok = matches(frozen, leaves[i].__dict__.get(name, _MISSING))
            except Exception:       # an argument of another kind: read again
                ok = False
            if not ok:
                return f"{arg}.{name} (an attribute of the tensor argument) is the value traced"
        for i, arg, names in self.absent:
            held = leaves[i].__dict__
            if held and not names.isdisjoint(held):
                name = sorted(names.intersection(held))[0]
                return f"{arg}.{name} (an attribute of the tensor argument) is set now, not " \
                       f"when traced"
        for i, arg, offset in self.offsets:
            if _offset(leaves[i]) != offset:
                return f"{arg}.storage_offset() is {offset}, as traced"
        return None


def _offset(t) -> int | None:
    layout = getattr(t, "__dict__", {}).get("_layout")
    return layout[1] if layout is not None else 0 if isinstance(t, Tensor) else None


def take_argument_attributes(guards: list) -> ArgumentAttributes | None:
    """Take the trace's `ArgumentAttributes` out of its guard list (runtime/compiled.py checks
    it with each call's arguments), or None."""
    for i, guard in enumerate(guards):
        if isinstance(guard, ArgumentAttributes):
            return guards.pop(i)
    return None


def argument_attribute_values(tracer, names) -> list:
    """The values of the tensor arguments' attributes the code names: objects whose own
    attributes are guarded in turn (`x.meta.scale`)."""
    return [t.__dict__[n] for t in _argument_tensors(tracer).values()
            for n in _read_names(t, names)]


def tensor_attribute_guards(tracer, ran: dict, names, reached) -> list:
    """Guards of the tensors' attributes the code read: one `ArgumentAttributes` for the
    tensor arguments (if any read), a guard per attribute of the other tensors (those lifted
    as state, and those among `reached`)."""
    strings = frozenset().union(*(_string_names(code) for code in ran))
    present, absent, guards = [], [], []
    arguments = _argument_tensors(tracer)
    for i, t in arguments.items():
        arg = tracer._name_of(t)
        held = t.__dict__
        present += [(i, arg, n, freeze(held[n])) for n in _read_names(t, names)]
        unset = frozenset(n for n in strings - held.keys() if not hasattr(Tensor, n))
        if unset:
            absent.append((i, arg, unset))
    # NOTE: the cache key leaves storage offsets out (`data[i]` on each call would compile
    # anew); a trace that read one (`storage_offset()`) checks the arguments' offsets
    offsets = [(i, tracer._name_of(t), _offset(t)) for i, t in arguments.items()] \
        if getattr(tracer, "offset_read", False) else []
    if present or absent or offsets:
        guards.append(ArgumentAttributes(present, absent, offsets))
    others = [rec.tensor for rec in tracer.lifted.values() if rec.source[0] != "arg"]
    others += [v for v in reached if isinstance(v, Tensor)]
    done = {id(t) for t in arguments.values()}
    for t in others:
        if id(t) in done:
            continue
        done.add(id(t))
        where = tracer._name_of(t)
        if where in ("tensor", "const"):    # not a parameter or buffer: a global, a closure's
            where = f"a captured {list(t.shape)} tensor's attribute: .{{}}"
        else:
            where = f"{where}.{{}} (an attribute of the tensor)"
        for name in _read_names(t, names | strings):
            guards.append(record(f"{where.format(name)} is the value traced",
                                 lambda t=t, n=name: t.__dict__.get(n, _MISSING)).failure)
    return guards


def _argument_tensors(tracer) -> dict:
    """{leaf index: tensor} of the tensor arguments (the first position of one passed twice)."""
    return {rec.source[1]: rec.tensor for rec in tracer.lifted.values()
            if rec.source[0] == "arg"}


def _read_names(t: Tensor, names) -> list:
    return sorted(n for n in t.__dict__.keys() & names if not n.startswith("__"))


@functools.lru_cache(maxsize=8192)
def _string_names(code) -> frozenset:
    """Identifiers the code holds as string constants (`getattr(x, "scale", 1.0)`)."""
    names = set()
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _string_names(const)
        elif isinstance(const, str) and const.isidentifier() and not const.startswith("__"):
            names.add(const)
    return frozenset(names)

