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

from graphnet._errors import TraceError

from .ir import Value


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
    for check in checks:
        if not isinstance(check, tuple):    # an arg_facts.ArgumentFact
            why = check.failure(leaves)
            if why is not None:
                return why
            continue
        i, name, was_none = check
        if (leaves[i]._grad is None) != was_none:
            return f"{name}.grad is {'None' if was_none else 'set'}"
    return None


def finish(tracer, result) -> None:
    """The trace's `.grad` writes, as "grad" outputs of `result`'s graph: a parameter's
    ("grad", t) or an argument's ("grad_of_arg", position) effect, the ones left None, and
    the ones the code replaced by a new tensor."""
    result.arg_grad_checks = tuple((i, name, was_none) for i, (name, was_none)
                                   in tracer.arg_grad_checks.items()) \
        + tuple(tracer.__dict__.get("arg_facts", ()))   # compiler/arg_facts.py
    # the "grad" outputs that keep history (`backward(create_graph=True)`): each call's
    # .grad joins its tape node, so a penalty on it outside differentiates through it
    result.grads_with_history = []
    for t, original in tracer.grad_targets.values():
        final, t._grad = t._grad, original
        i = arg_index(tracer, t)   # an argument: the call's own, by position
        if final is None:
            if i is None:
                result.grad_none.append(t)
            else:
                result.arg_grad_none.append(i)
        elif isinstance(final._value, Value):
            result.graph.add_output("grad", tracer._name_of(t), final._value)
            result.effects.append(("grad", t) if i is None else ("grad_of_arg", i))
            if final.requires_grad:
                result.grads_with_history.append(len(result.effects) - 1)
            if final is not original:
                if i is None:
                    result.grad_replaced.append(t)
                else:
                    result.arg_grad_replaced.add(i)
        else:
            raise TraceError("the compiled code assigned a concrete tensor to a captured "
                             "tensor's .grad; compute it inside the function instead")
        del final
