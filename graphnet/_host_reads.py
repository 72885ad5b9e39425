"""A tensor's values read into Python for a result size or an index: `x[mask]`, `nonzero`,
`bincount`, `repeat_interleave(counts)`, `unique` ...

Eagerly the values are at hand. Inside `graphnet.compile` a tensor the traced code did not
make (a mask buffer, a global, a parameter) also has its values at hand, and the program
keeps the size or the indices computed from them: a compiled call that finds other values
must trace again, as `.item()` and `.tolist()` do. So every such read goes through
`Tensor._concrete`, whose trace hook records a value guard (compiler/value_reads.py). Before,
these functions read `tensor._value` directly: no guard, and after `mask[1] = True` the
compiled program went on with the old mask (a silent wrong answer).

A value the traced code computes has no values yet: its read stays the op's own TraceError,
which names the way out."""

from __future__ import annotations

import jax
import numpy as np

from ._errors import TraceError, forgive_refusal
from ._mode import current_mode


class GuardTooLargeError(TraceError):
    """A captured tensor too big to check its values on every compiled call
    (raised by compiler/value_reads.py; kept as is by `host_values`)."""


def try_host_values(tensor, what: str):
    """`tensor`'s values as a NumPy array (guarded inside a trace), or None when it is a value
    the traced code computes (it has none while tracing)."""
    if isinstance(tensor._value, jax.Array):
        # NOTE: eager, or a captured tensor (guarded), or one the trace made from constants
        return np.asarray(tensor._concrete(what))
    if current_mode() is None:
        return np.asarray(tensor._concrete(what))   # a tensor that escaped a trace: its error
    try:
        # a captured tensor the trace lifted hands back the values it held, guarded
        return np.asarray(tensor._concrete(what))
    except GuardTooLargeError:
        raise
    except TraceError as error:
        forgive_refusal(error)   # the caller decides without the values
        return None


def host_values(tensor, what: str, refusal: str) -> np.ndarray:
    """`try_host_values`, raising TraceError(`refusal`) for a value of the traced code."""
    values = try_host_values(tensor, what)
    if values is None:
        raise TraceError(refusal)
    return values


def argument_fact(tensor, what: str, fact):
    """`fact(values)`, a small hashable fact of `tensor`'s values that decides which work the
    caller does (which clusters some target falls in), or None when it is not at hand.

    Eagerly it is computed from the values. Inside `graphnet.compile` it is at hand when
    `tensor` is an argument of the compiled call: the program is built for the fact, and a
    call whose argument gives another traces again (compiler/arg_facts.py). For a tensor the
    traced code computes, or under another mode (vmap), it is None."""
    mode = current_mode()
    if mode is None:
        return fact(np.asarray(tensor._concrete(what)))
    return mode.argument_fact(tensor, what, fact)
