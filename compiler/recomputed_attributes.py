"""Module attributes a forward computes anew on every call (the weight of a pruned,
weight-normed or spectral-normed module, which its forward pre-hook sets from `weight_orig`
and the mask: graphnet/nn/utils/_norms.py `set_computed`).

In PyTorch each forward gives the module a new tensor, so a `w = module.weight` taken
earlier keeps that forward's values. The trace sees the hook set a tensor it made; kept as
the usual escaped tensor (trace_result.py `_finish_escaped`) it would make every call trace
again, so it is an output of its own instead (`("attr", (module, name))`): after each call
the runtime sets a new tensor holding it on the module (runtime/writeback.py), and the
module guard does not compare that attribute's identity (`skipped`). Before, the program
wrote the new values into the tensor the attribute held, and a reference taken after the
first step showed the second step's weight. NOTE: a trace that read the old tensor before
the hook replaced it (`m.weight.sum()` before `m(x)`) holds it as an input: then the guard
stays and the next call traces again, reading the new one."""

from __future__ import annotations

import gc
import types

from graphnet._tensor import Tensor


def note(tracer, module, name: str, value, old) -> None:
    """The traced code's hook set `module.name` to `value` (a tensor the trace made) in
    place of `old`. A second write in the same trace keeps the first one's `old`, the tensor
    the attribute held before the call (`self.h = self.h.detach()` then `self.h = rnn(x,
    self.h)`: the program read that tensor, so the guard must stay; with the detached value
    as `old` it was dropped, and every later call ran from the first call's hidden state)."""
    recomputed = tracer.__dict__.setdefault("recomputed", {})
    earlier = recomputed.get(id(old))
    if earlier is not None and earlier[0] is module and earlier[1] == name:
        old = earlier[2]
    recomputed[id(value)] = (module, name, old)


def _final(tracer) -> list:
    """(module, name, value, old) for each attribute whose last value this trace set."""
    found = []
    for key, (module, name, old) in tracer.__dict__.get("recomputed", {}).items():
        value = module.__dict__.get(name)
        if value is not None and id(value) == key:
            found.append((module, name, value, old))
    return found


def skipped(tracer) -> set:
    """(id(module), name) of the attributes whose identity the guard need not compare: the
    program never read the values of the tensor they held before the call, and what Python
    may have read of it (its shape, dtype) is what the new value has, so the next call,
    which finds this call's value there, decides alike; or the module had no such attribute
    and the code did not look it up. Not when it held None or a number, or a missing one was
    looked up: `if self.prev is None`, `getattr(self, "prev", None)`, `x + self.prev` of a
    number and `torch.empty(0)` placeholders decided the program by it (the guard was
    dropped, and every later call ran the first call's branch, silently)."""
    lifted = {id(rec.tensor) for rec in tracer.lifted.values()}
    looked_up = tracer.__dict__.get("missing_reads", ())
    return {(id(module), name) for module, name, value, old in _final(tracer)
            if (old is MISSING and (id(module), name) not in looked_up) or (
                isinstance(old, Tensor) and id(old) not in lifted and _alike(old, value))}


# what `note` gets as the old value of an attribute the module did not have
MISSING = object()


def note_missing(tracer, module, name: str) -> None:
    """The traced code looked up `module.name` while the module had no such attribute
    (`getattr(self, "prev", None)`, `hasattr`): it decided something by its absence."""
    tracer.__dict__.setdefault("missing_reads", set()).add((id(module), name))


def _alike(old, value) -> bool:
    return (tuple(old.shape), old.dtype) == (tuple(value.shape), value.dtype)


def finish(tracer, result, t, returned: bool) -> bool:
    """Handle created tensor `t` in `_finish_escaped` when it is a recomputed attribute's
    value (True: done). The last value becomes an "attr" output; an earlier forward's
    (a module called twice) is the trace's own business; one the code also returns stays
    an escaped tensor."""
    recomputed = tracer.__dict__.get("recomputed")
    if not recomputed or id(t) not in recomputed or returned:
        return False
    module, name, old = recomputed[id(t)]
    if module.__dict__.get(name) is t and (id(module), name) in skipped(tracer):
        result.graph.add_output("new", f"{type(module).__name__}.{name}", t._value)
        result.effects.append(("attr", (module, name)))
        if t.requires_grad:   # `self.loss = F.mse_loss(y, target)`: a compiled forward's call
            # gives the module a tensor on its tape node (runtime/artifact_tape.py), as eagerly
            result.attrs_with_history.append(len(result.effects) - 1)
        return True
    if module.__dict__.get(name) is t:
        return False     # held as an input too: the escaped tensor's retrace
    return True


def held_bases(tracer, alive: list) -> set:
    """ids of the tensors of `alive` held only as the `_base` of a recomputed attribute's
    value that this trace hands to its module (`self.mean = x.mean(1).detach()`: the mean
    before `detach`). The module gets a new tensor after each call, so nothing reads them:
    kept as escaped tensors they traced the step again on every call."""
    skip = skipped(tracer)
    found = set()
    for module, name, value, _ in _final(tracer):
        if (id(module), name) not in skip:
            continue
        holder, base = value, value._alias_src
        while base is not None:
            holders = [r for r in gc.get_referrers(base)
                       if r is not alive and not isinstance(r, types.FrameType)]
            if any(r is not holder for r in holders):
                break
            found.add(id(base))
            holder, base = base, base._alias_src
    return found
