"""Tensor arguments that share storage: with each other, or with a tensor the program holds.

Eagerly, an in-place write through one tensor is seen by every tensor on its storage:
`f(w[1], w[1])` where `f` does `a.add_(1); return b * 2` returns 2s, and
`f(base[0:3], base[1:4])` reads the first slice's write through the second. A program
traced for two separate tensors computes `b` from its own input and never sees the write.
So the storage pattern decides which program a call may run:

- the cache key (CompiledFunction._key) says whether each tensor argument is state a
  compiled program holds (`HELD`, marked on its owner: `f(p)` after `f(x)`, where `f`
  updates `p`) and, when some argument is a view, which arguments share a storage
  (`storage_pattern`, graphnet/_overlap.py `owner`): `f(w[1], w[1])` or `f(w, w[0])` after
  `f(x, y)` traces again. A fresh tensor (the usual training batch) costs three
  dictionary reads;
- an artifact traced with views (`storage_checks`) remembers, for each storage its program
  writes or holds as state ("live"), where each view argument lies in it (strides, offset)
  and which tensor owns it when the program holds that tensor: `f(x[1:3])` writes `x`
  back, so a later `f(y[1:3])`, or `f(x[0:2])`, traces again. Views of storage the program
  neither writes nor holds (a batch sliced from a data set each step) are not pinned:
  nothing of their storage is baked in.

The traced program follows a write to one argument into another through the views each
tensor remembers (graphnet/_aliases.py), but only across tensors that are graph values in
the trace: a view taken from a temporary view (`w.t()[0]`) is reached through that
temporary, which holds a concrete array, so it would keep its old values. Such a call is
refused with a TraceError instead."""

from __future__ import annotations

from graphnet._errors import TraceError
from graphnet._overlap import _layout, owner
from graphnet._tensor import Tensor


def storage_pattern(leaves) -> tuple:
    """For each tensor argument (None for others): the position of the first argument on the
    same storage, whether it is a view, and whether a program holds that storage as state.
    Part of the cache key of a call with views (CompiledFunction._key)."""
    groups, pattern = {}, []
    for i, a in enumerate(leaves):
        if isinstance(a, Tensor):
            base = owner(a)
            pattern.append((groups.setdefault(id(base), i), base is not a,
                            HELD in base.__dict__))
        else:
            pattern.append(None)
    return tuple(pattern)


def storage_words(pattern: tuple | None) -> str:
    """`storage_pattern` in words, for the reason of a recompile."""
    words = []
    for i, part in enumerate(pattern or ()):
        if part is not None and (part[0] != i or part[1]):
            on = "a storage of its own" if part[0] == i else f"input {part[0]}'s storage"
            words.append(f"input {i} is a {'view' if part[1] else 'tensor'} on {on}"
                         f"{' (state a program holds)' if part[2] else ''}")
    return "; ".join(words) or "no views"


HELD = "_held_state"   # in a storage owner's __dict__: some compiled program holds it as state


def mark_held(artifact) -> None:
    """Mark the storage owners `artifact` reads or writes as state (see HELD): the cache key
    of a later call reads the mark (CompiledFunction._key), so that an argument on such a
    storage (`f(p)`, `f(p[0])`) runs a program traced for it."""
    for kind, obj in artifact.sources:
        if kind == "state":
            owner(obj).__dict__[HELD] = True
    for e in artifact.traced.effects:
        if e is not None and e[0] == "state":
            owner(e[1]).__dict__[HELD] = True


def storage_checks(artifact, leaves) -> tuple:
    """What `storage_failure` checks on each call of `artifact`, traced for `leaves`: for each
    storage with a view argument that the program writes or holds as state, (the positions
    of its arguments, its owner or None when that is one of them, their layouts). A
    TraceError when the trace could not follow a write between aliasing arguments."""
    mark_held(artifact)
    written = {e[1] for e in artifact.traced.effects if e is not None and e[0] == "arg"}
    groups: dict = {}
    for i, a in enumerate(leaves):
        if isinstance(a, Tensor):
            groups.setdefault(id(owner(a)), []).append(i)
    live = []
    for positions in groups.values():
        base = owner(leaves[positions[0]])
        if all(leaves[i] is base for i in positions) or not (
                HELD in base.__dict__ or written.intersection(positions)):
            continue    # no view, or a storage the program neither writes nor holds
        if len(positions) > 1 and written.intersection(positions):
            _check_followed(artifact, leaves, base, positions)
        an_argument = any(leaves[i] is base for i in positions)
        live.append((tuple(positions), None if an_argument else base,
                     tuple(_layout(leaves[i]) for i in positions)))
    # an argument the code also reached as state (compiler/code_reads.py): this very tensor
    for i, t in getattr(artifact.traced, "args_as_state", {}).items():
        live.append(((i,), t, (_layout(t),)))
    return tuple(live)


def storage_failure(checks: tuple, leaves) -> str | None:
    """Why this call's view arguments lie otherwise in their storage than the traced call's
    (None: they do not). The cache key already matched which arguments share a storage."""
    for positions, base, layouts in checks:
        for i, layout in zip(positions, layouts):
            a = leaves[i]
            if base is not None and owner(a) is not base:
                return f"input {i} is a view of another tensor than the one traced, whose " \
                       f"storage the program holds" if a is not owner(a) else \
                       f"input {i} is not the tensor traced, which the code also read as " \
                       f"state (a global, closure or module tensor)"
            if _layout(a) != layout:
                return f"input {i} lies elsewhere in its storage (strides and offset " \
                       f"{_layout(a)}, traced with {layout})"
    return None


def _check_followed(artifact, leaves, base, positions) -> None:
    """Refuse arguments on one storage, some written, that the trace cannot keep in step: a
    view is followed from its owner only through views held by other arguments. NOTE: a
    write to one argument changes the others in the trace too, so `written` cannot tell
    which argument the code wrote; any written group with such a view is refused."""
    ids = {id(leaves[i]) for i in positions} | {id(base)}
    reached, todo = {id(base)}, [base]
    while todo:
        t = todo.pop()
        for entry in (*t.__dict__.get("_aliases", ()), *t.__dict__.get("_views", ())):
            target = entry[0]() if isinstance(entry, tuple) else entry()
            if target is not None and id(target) in ids and id(target) not in reached:
                reached.add(id(target))
                todo.append(target)
    lost = [i for i in positions if id(leaves[i]) not in reached]
    if lost:
        names = {b[1]: name for name, b in artifact.traced.bindings.items() if b[0] == "arg"}
        what = ", ".join(f"input {i} ({names.get(i, '?')})" for i in positions)
        raise TraceError(
            f"compiled {artifact.graph.name}: {what} share one storage and the function writes "
            f"some of them in place, but input(s) {lost} reach that storage only through a "
            f"view that is not an argument (a view of a temporary view, as `w.t()[0]`, or of "
            f"a tensor that is itself a view of one no longer held, as `arange(6).view(2, 3)"
            f"[0]`), which the compiled program cannot keep in step with the writes. Pass "
            f"views of one tensor you hold (`w = x.clone(); w[0], w[:, 1]`), or clone() the "
            f"arguments that are only read.")
