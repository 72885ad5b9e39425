"""Tensors a traced custom `autograd.Function` keeps on its `ctx` (`ctx.lam = lam`, a
tensor the traced code made, or one it saved with `ctx.save_for_backward`, which keeps a
tuple; NOTE: those were missed, and `trunc_exp` traced again on every call): the ctx lives
on in the program's node, whose backward reads
them as graph values (graphnet/autograd/_function_static.py `_Spec`). Held there only, they
have not escaped the trace, so they are not state the next call must read: counted as
escaped, a gradient-reversal step (`GRL.apply(x, lin.lam * 1.0)`) traced again on every
call, and after eight fell back to eager."""

from __future__ import annotations

import gc
import types

from graphnet._aliases import _target


def _hold(value, held: dict, states: set, depth: int) -> None:
    """`value` is held by a ctx; so are the items of a tuple or list it is (`ctx.to_save`,
    and `_saved_at`'s (tensor, version) pairs), `depth` levels down."""
    held[id(value)] = value
    if depth and type(value) in (tuple, list):
        states.add(id(value))
        for item in value:
            _hold(item, held, states, depth - 1)


def ctx_only(graph, tensors: list) -> set:
    """ids of those of `tensors` (created in the trace and still alive) that no object
    holds but the ctx of one of `graph`'s custom_function nodes."""
    ctxs = [node.attrs["spec"].ctx for node in graph.nodes if node.op == "custom_function"]
    states = {id(vars(ctx)) for ctx in ctxs if ctx is not None and hasattr(ctx, "__dict__")}
    if not states:
        return set()
    held = {}
    for ctx in ctxs:
        if ctx is not None:
            for value in vars(ctx).values():
                _hold(value, held, states, 2)
    found = set()
    # NOTE: plain loops: a closure over the tensor (a generator in `any`) is a holder too
    for t in tensors:
        if id(t) not in held:
            continue
        holders = [r for r in gc.get_referrers(t) if r is not tensors and r is not held
                   and not isinstance(r, types.FrameType)]
        if holders and all(id(r) in states for r in holders):
            found.add(id(t))
    # the tensor a held alias was taken of (`save_for_backward(z.detach())`: z), held only
    # as its `_base`. NOTE: kept as escaped, a DEQ's step traced again on every call
    for t in tensors:
        if id(t) not in found:
            continue
        holder, base = t, t._alias_src
        while base is not None and id(base) not in found:
            holders = [r for r in gc.get_referrers(base) if r is not tensors
                       and not isinstance(r, types.FrameType)]
            if any(r is not holder for r in holders):
                break
            found.add(id(base))
            holder, base = base, base._alias_src
    return found


def still_alive(created, inputs) -> list:
    """The tensors of `created` (weak references to the tensors a trace made) still alive at
    its end, after dropping the entries the trace's `inputs` keep for views already gone
    (their closures hold the views' index tensors) and collecting reference cycles (a view and
    its base refer to each other through such closures). NOTE: both looked like state the
    trace created, so a step indexing a parameter with traced indices
    (`trans[tags[i], tags[j]]`), or the BiLSTM-CRF tutorial's, traced again on later calls."""
    for t in inputs:
        for kind in ("_aliases", "_views"):
            refs = t.__dict__.get(kind)
            if refs:
                refs[:] = [r for r in refs if _target(r) is not None]
    if any(ref() is not None for ref in created):
        gc.collect()
    return [t for ref in created if (t := ref()) is not None]
