"""Tensors the traced code makes from data (`tensor(0.0)`, `from_numpy(a)`, `eye(3)`).

Such a tensor holds a concrete array while the code is traced, so the first use lifts it as a
graph input, as it lifts a captured buffer. Unlike a buffer, it is a new tensor on every
eager run of the code: `pen = tensor(0.0); pen -= loss` starts from zero each time. Fed from
the tensor itself, a compiled call would start from what the last call wrote into it
(-1.5, -3.0, -4.5 ... where eager code gives -1.5 every time). Its input is instead fed the
array the trace found, on every call; what the program writes into it still reaches the
tensor, which only code that kept it (a list, an attribute) can see."""

from __future__ import annotations

import weakref

from .arg_facts import ArgumentFactReads

MADE = "made"   # the binding of such an input: ("made", the array it is fed on every call)


class MadeData(ArgumentFactReads):
    """The tracer's record of the tensors made from data while it traced (a mixin); with
    the facts of argument values it read (compiler/arg_facts.py)."""

    def on_data_made(self, t) -> None:
        self.__dict__.setdefault("made_data", {})[id(t)] = weakref.ref(t)

    def made_here(self, t) -> bool:
        ref = self.__dict__.get("made_data", {}).get(id(t))
        return ref is not None and ref() is t

    def state_source(self, t, slot) -> tuple:
        """Where a call reads captured tensor `t` (`slot`: its slot label, or None)."""
        if slot:
            return ("slot", slot[1])
        return (MADE, t) if self.made_here(t) else ("state", t)


def effect(rec) -> tuple:
    """Where a call stores what the program wrote into lifted tensor `rec`."""
    return ("state", rec.tensor) if rec.source[0] == MADE else rec.source


def binding(rec) -> tuple:
    """The input binding of lifted tensor `rec`: the array the trace found for a tensor made
    from data, else where each call reads it."""
    if rec.source[0] == MADE:
        return (MADE, rec.original)
    return rec.source
