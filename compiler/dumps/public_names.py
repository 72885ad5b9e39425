"""Which public graphnet function a code dump may call for an op.

An entry is used only when calling the function with the node's inputs (positionally) and its
attributes (as keywords, minus `drop`) dispatches exactly that op with exactly those
attributes, so the code re-traces to the same graph and computes the same numbers. `when`
guards entries whose public function adds work for some inputs (PyTorch's int + float
promotion, target checks). Every other op is written as `graphnet._dispatch.dispatch(...)`.
tests/test_dumps.py re-traces generated code to check each entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..ir import Node, Value

F = "graphnet.nn.functional"


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


UNARY = ["neg", "exp", "log", "sqrt", "rsqrt", "abs", "sin", "cos", "tanh", "sigmoid", "erf",
         "log1p", "expm1", "square", "reciprocal", "log2", "exp2", "sign", "floor", "ceil",
         "round", "trunc", "logical_not", "isnan", "isinf"]
BINARY = ["add", "sub", "mul", "pow", "maximum", "minimum", "atan2", "eq", "ne", "lt", "le",
          "gt", "ge", "logical_and", "logical_or", "remainder", "floor_divide"]
KEYWORD_ONLY = ["amax", "amin", "argmax", "argmin", "prod", "var", "std", "norm", "logsumexp",
                "softmax", "log_softmax", "cumsum", "all", "any", "transpose", "squeeze",
                "unsqueeze", "flip", "tril", "triu", "clamp", "matmul"]

PUBLIC: dict[str, Public] = {
    **{op: Public(f"graphnet.{op}") for op in UNARY + KEYWORD_ONLY},
    **{op: Public(f"graphnet.{op}", _no_promotion) for op in BINARY},
    "div": Public("graphnet.div", _true_division),
    "where": Public("graphnet.where", _no_promotion),
    "sum": Public("graphnet.sum", _float_or_typed),
    "mean": Public("graphnet.mean", _float_or_typed),
    **{op: Public(f"{F}.{op}") for op in ["linear", "relu", "relu6", "silu", "leaky_relu", "elu",
                                          "gelu", "softplus", "hardtanh", "prelu"]},
    "cross_entropy": Public(f"{F}.cross_entropy", _class_target, drop=("probs_target",)),
    "nll_loss": Public(f"{F}.nll_loss", _class_target),
    "mse_loss": Public(f"{F}.mse_loss", _same_shapes),
}


def public_function(node: Node) -> Public | None:
    """The entry to call for `node`, or None to fall back to `dispatch`."""
    entry = PUBLIC.get(node.op)
    if entry is None or (entry.when is not None and not entry.when(node)):
        return None
    return entry
