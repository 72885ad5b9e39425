"""`validate_args` in compiled code: a parameter or a `log_prob` value whose numbers are not
known while tracing is checked where the program runs, by the op table's value checks.

Eagerly, `Distribution._check` and `_validate_sample` read the constraint's bool tensor and
raise PyTorch's ValueError at once. While a graph is traced that tensor is a graph value, so
`tie` routes the checked tensors through `distribution_check`: the identity on its first
input, whose value check (`ValueCheck`, compiler/checks.py) reads the constraint's result
and raises the same ValueError after the call, before anything is written back. The check
node sits on the data path (the distribution's tensors and the `log_prob` value are its
outputs), so dead-code elimination keeps it exactly as long as a result depends on it."""

from __future__ import annotations

import jax

from .._dispatch import dispatch
from .._ops import defop
from .._ops._table import ValueCheck
from .._tensor import Tensor

_NOT_SHOWN = ("\n(a compiled program reports no values: call the function without "
              "graphnet.compile to see them)")


def _broken(x, ok, *, message):
    """(bad, ()): whether some entry of the constraint's result `ok` is False."""
    return ~ok.all(), ()


def _error(facts, *, message):
    return ValueError(message + _NOT_SHOWN)


@defop("distribution_check", "opaque", nondiff_inputs=(1,), function=None, method=None,
       check=ValueCheck(_broken, _error, values_from=1), backward="AliasBackward0")
def _distribution_check(x, ok, *, message):
    """`x` unchanged; PyTorch's ValueError `message` when `ok` is not all True."""
    return x


def concrete(ok: Tensor) -> bool:
    """Whether the constraint's result can be read now (an eager value, not a graph's)."""
    from .._mode import tracing

    return isinstance(ok._value, jax.Array) and not isinstance(ok._value, jax.core.Tracer) \
        and not tracing()


def tie(x: Tensor, ok: Tensor, message: str) -> Tensor:
    """`x`, checked: the program that computes anything from the result raises ValueError
    `message` when `ok` has a False entry."""
    out = dispatch("distribution_check", x, ok, message=message)
    out.__dict__["_checked_from"] = x   # a transform's cache knows it as `x` (transforms.py)
    return out


def tie_state(dist, ok: Tensor, message: str) -> None:
    """Route every tensor `dist` holds (and those of the distributions it wraps) through the
    check: whatever the distribution computes later depends on it. NOTE: PyTorch raises in
    the constructor; a compiled call raises when it returns, for the results that read the
    distribution (`mean` of a Normal whose scale broke its constraint reads only loc)."""
    for name, value in list(dist.__dict__.items()):
        if isinstance(value, Tensor):
            dist.__dict__[name] = tie(value, ok, message)
        elif hasattr(value, "_validate_args") and hasattr(value, "__dict__") \
                and value is not dist:
            tie_state(value, ok, message)
