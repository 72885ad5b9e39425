"""`graphnet.cond` and `graphnet.while_loop`: value-dependent control flow that works in both
modes. Eagerly they are ordinary Python `if` / `while`; while tracing, the compiler records
each branch (or the loop's condition and body) as a sub-graph, lowered to `lax.cond` /
`lax.while_loop`."""

from __future__ import annotations

from ._mode import EAGER, current_mode
from ._tensor import Tensor


def cond(pred, true_fn, false_fn, *operands):
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`; both must return tensors of
    the same shapes and dtypes.

    >>> y = graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, x)
    """
    return (current_mode() or EAGER).cond(pred, true_fn, false_fn, operands)


def while_loop(cond_fn, body_fn, init):
    """Repeat `carry = body_fn(*carry)` while `cond_fn(*carry)`; `init` is a tensor or a tuple
    of tensors and the body must keep their shapes and dtypes.

    >>> x = graphnet.while_loop(lambda x: x.norm() > 1, lambda x: x / 2, x)
    """
    single = isinstance(init, Tensor)
    carry = (init,) if single else tuple(init)
    out = (current_mode() or EAGER).while_loop(cond_fn, body_fn, carry)
    return out[0] if single else out
