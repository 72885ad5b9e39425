"""A tensor argument's `.grad` inside a compiled function.

A parameter's `.grad` is reached through the parameter, the same object on every call, so the
tracer guards and re-reads it through that object (tracer.on_grad_read). An argument is a new
tensor on most calls: a guard or a slot holding the traced call's tensor would read that
first tensor's `.grad` forever (`def f(x): return x + x.grad` returned the first call's sum on
every later call, and `backward()` accumulated into the first tensor's `.grad`). So for an
argument, by its position among the call's flattened tensors:

- whether its `.grad` was None when the trace first touched it is checked against the
  argument of each call (`failure`, beside the cache key's other per-argument facts);
- the `.grad` values it read are an input fed from the call's argument (source
  `("arg_grad", i)`), and what the code writes to that `.grad` goes back to that argument.
"""

from __future__ import annotations


def arg_index(tracer, t) -> int | None:
    """The position of `t` among the traced call's tensor arguments, or None."""
    rec = tracer.lifted.get(id(t))
    if rec is not None and rec.tensor is t and rec.source[0] == "arg":
        return rec.source[1]
    return None


def note(tracer, t, i: int) -> None:
    """The trace reads or sets argument `i`'s (`t`'s) `.grad`: check its presence on later
    calls, and read its current values from the call's argument."""
    tracer.arg_grad_checks.setdefault(i, (tracer._name_of(t), t._grad is None))
    grad = t._grad
    if grad is not None and id(grad) not in tracer.lifted:
        tracer.arg_grad_inputs.setdefault(id(grad), i)


def failure(checks: tuple, leaves) -> str | None:
    """Why the arguments `leaves` do not fit a program traced with `checks`, or None."""
    for i, name, was_none in checks:
        if (leaves[i]._grad is None) != was_none:
            return f"{name}.grad is {'None' if was_none else 'set'}"
    return None
