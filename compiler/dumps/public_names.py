"""Which public graphnet function a code dump may call for an op: the op table's `dump` name
(`defop(..., dump=True)`), guarded here.

An entry is used only when calling the function with the node's inputs (positionally) and its
attributes (as keywords, minus `drop`) dispatches exactly that op with exactly those
attributes, so the code re-traces to the same graph and computes the same numbers. `when`
guards entries whose public function adds work for some inputs (PyTorch's int + float
promotion, target checks). Every other op is written as `graphnet._dispatch.dispatch(...)`.
tests/test_dumps.py re-traces generated code to check each entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from graphnet._ops import OPS

from ..ir import Node, Value


def _is_float(x) -> bool:
    if isinstance(x, Value):
        return x.dtype.kind == "f" or x.dtype.name == "bfloat16"
    return isinstance(x, float)


def _no_promotion(node: Node) -> bool:
    """graphnet.add & co. cast an integer tensor met with a Python float; the recorded inputs
    are already promoted, so such a pair never needs the public function's extra cast."""
    values = [x for x in node.inputs if isinstance(x, Value)]
    literals = [x for x in node.inputs if not isinstance(x, Value)]
    return not (any(isinstance(x, float) for x in literals)
                and any(not _is_float(v) for v in values))


def _true_division(node: Node) -> bool:
    # graphnet.div casts two integer operands to float32 first; the op itself would not.
    return _no_promotion(node) and any(_is_float(x) for x in node.inputs)


def _float_or_typed(node: Node) -> bool:
    # graphnet.sum/mean choose a dtype (or refuse) for integer input when dtype is None.
    return node.attrs.get("dtype") is not None or _is_float(node.inputs[0])


def _class_target(node: Node) -> bool:
    logits, target = node.inputs[0], node.inputs[1]
    if not (isinstance(logits, Value) and isinstance(target, Value)) or len(logits.shape) < 2:
        return False
    probs = _is_float(target) and target.shape == logits.shape
    if node.attrs.get("probs_target", False) != probs:
        return False
    return probs or (target.dtype.kind in "iu"
                     and target.shape == (logits.shape[0],) + logits.shape[2:])


def _same_shapes(node: Node) -> bool:
    a, b = node.inputs[0], node.inputs[1]
    return isinstance(a, Value) and isinstance(b, Value) and a.shape == b.shape


@dataclass(frozen=True)
class Public:
    function: str                                   # dotted path from `graphnet`
    when: Callable[[Node], bool] | None = None      # None: always
    drop: tuple = ()                                # attributes the function derives itself


# Guards for ops whose public function (the op table's `dump` name) adds work for some
# inputs, and attributes the function derives itself.
GUARDS: dict[str, tuple] = {   # op -> (when, drop)
    **{op: (_no_promotion, ()) for op, entry in OPS.items() if entry.bind == "binary"},
    "add": (_no_promotion, ()), "sub": (_no_promotion, ()), "pow": (_no_promotion, ()),
    "where": (_no_promotion, ()),
    "div": (_true_division, ()),
    "sum": (_float_or_typed, ()), "cumsum": (_float_or_typed, ()),
    # graphnet.mean takes graphnet's dtypes, not the numpy dtype the node records
    "mean": (lambda node: node.attrs.get("dtype") is None and _is_float(node.inputs[0]), ()),
    # `x.max()` records NaN sharing, which the public amax/amin do not take
    "amax": (lambda node: not node.attrs.get("share_nan"), ()),
    "amin": (lambda node: not node.attrs.get("share_nan"), ()),
    "cross_entropy": (_class_target, ("probs_target",)),
    "nll_loss": (_class_target, ()),
    "mse_loss": (_same_shapes, ()),
}


def _public(op: str, path: str) -> Public:
    when, drop = GUARDS.get(op, (None, ()))
    return Public(f"graphnet.{path}", when, drop)


PUBLIC: dict[str, Public] = {name: _public(name, entry.dump) for name, entry in OPS.items()
                             if entry.dump is not None}


def public_function(node: Node) -> Public | None:
    """The entry to call for `node`, or None to fall back to `dispatch`."""
    entry = PUBLIC.get(node.op)
    if entry is None or (entry.when is not None and not entry.when(node)):
        return None
    return entry
