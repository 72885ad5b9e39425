"""The op table's floor_divide, remainder and heaviside (bound in _math.py) as PyTorch gives
them: ops it defines no derivative for, so their results require grad and a backward through
them raises (graphnet/_no_derivative.py). Before, each dropped out of autograd, so
`heaviside(x, v) * x` gave x a gradient silently."""

from __future__ import annotations

from ._no_derivative import without_derivative
from ._tensor import Tensor


def without_derivative_forms(floor_quotient, remainder_of, heaviside_step) -> tuple:
    """(floor_divide, remainder, heaviside) wrapping the bound ops."""

    def floor_divide(input, other):
        """`input // other`, rounded toward -inf (op `floor_divide`, wrapped). PyTorch
        defines no derivative: the result requires grad, and a backward through it raises
        (`div(..., rounding_mode="floor")` is the differentiable spelling)."""
        return without_derivative(floor_quotient(input, other), (input, other), "floor_divide")

    def remainder(input, other):
        """`input % other` with the divisor's sign (op `remainder`, wrapped). PyTorch's
        remainder of a number by a tensor (`0.3 % p`) defines no derivative: the result
        requires grad and a backward through it raises (a tensor by a tensor has one)."""
        if isinstance(input, Tensor):
            return remainder_of(input, other)
        return without_derivative(remainder_of(input, other), (other,), "remainder")

    def heaviside(input, values):
        """The step function: 0 below 0, `values` at 0, 1 above (op `heaviside`, wrapped).
        PyTorch defines no derivative: the result requires grad, and a backward through it
        raises."""
        if isinstance(input, Tensor) and isinstance(values, Tensor) \
                and input.dtype != values.dtype:   # no promotion, as in PyTorch
            raise RuntimeError("heaviside is not yet implemented for tensors with different "
                               "dtypes.")
        return without_derivative(heaviside_step(input, values), (input, values), "heaviside")

    for fn in (floor_divide, remainder, heaviside):
        fn.__qualname__ = fn.__name__
    return floor_divide, remainder, heaviside
