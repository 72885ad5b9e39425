"""A captured view read after the trace wrote the tensor it views.

A view made outside the compiled function (`row = base[1]` in a closure, `self.head =
self.mem[0]` on a module) is a tensor of its own to the trace: on its first read it becomes a
graph input holding its values from before the call. Eagerly, an in-place write to its
source reaches it at once (graphnet/_aliases.py `share_value`); inside a trace that happened
only for views the trace already held as graph values. So a view first read after a write to
its source, or after a write through another view of the same source, read the old values,
and a write through it was built on them: `v.add_(x); return d * 1` (two views of one
tensor) returned d without x, and `b.mul_(2); row.add_(x)` left row's elements of b
undoubled, where PyTorch gives the new values.

Now, when a captured view is lifted, the tensors the trace has written are searched for it
among their views (and views of views, through views the trace has not read yet): found, it
takes the view of the written values, as eager mode's `_recompute` gives it, and each view on
the way is lifted the same way. Its new values are then a state output like any write, so
the call writes them back too."""

from __future__ import annotations

from graphnet._aliases import _recompute, share_value

MAX_DEPTH = 4   # views of views followed from a written tensor


def derive_from_written_source(tracer, t) -> None:
    """After `t` (a captured tensor, just lifted) got its placeholder: if a tensor the trace
    has written holds it as a view (or a `.data`/`detach()` alias), give `t` the view of
    (or share) the written values."""
    if "_view" not in t.__dict__ and t._alias_src is None:
        return
    path = _path_from_written(tracer, t)
    if path is None:
        return
    (parent, _), (_, forward) = path[-2], path[-1]
    if len(path) > 2:
        tracer.value_of(parent)   # lifted, and given its own new values the same way
    if forward is None:     # an alias shares its source's values
        t._value = parent._value
        share_value(t)
    else:
        _recompute(t, parent, forward)


def _ties(s):
    """(tensor, forward or None) for each live view and alias `s` handed out."""
    for ref, forward, shape in s.__dict__.get("_views") or ():
        view = ref()
        if view is not None and tuple(s._value.shape) == tuple(shape):
            yield view, forward
    for ref in s.__dict__.get("_aliases") or ():
        alias = ref()
        if alias is not None and alias._value.shape == s._value.shape \
                and alias._value.dtype == s._value.dtype:
            yield alias, None


def _path_from_written(tracer, t):
    """[(written tensor, None), (tie, forward), ..., (t, forward)], or None."""
    frontier = [[(rec.tensor, None)] for rec in tracer.lifted.values()
                if rec.tensor is not t and rec.tensor._value is not rec.placeholder
                and (rec.tensor.__dict__.get("_views") or rec.tensor.__dict__.get("_aliases"))]
    for _ in range(MAX_DEPTH):
        following = []
        for path in frontier:
            for tie, forward in _ties(path[-1][0]):
                if tie is t:
                    return path + [(t, forward)]
                if id(tie) not in tracer.lifted and all(tie is not p for p, _ in path):
                    following.append(path + [(tie, forward)])
        frontier = following
        if not frontier:
            return None
    return None
