"""All parameters as one flat vector and back, as `torch.nn.utils` has them (used by
second-order optimizers, evolution strategies and model averaging).

>>> vec = parameters_to_vector(model.parameters())
>>> vector_to_parameters(vec * 0.5, model.parameters())
"""

from __future__ import annotations

from ... import _math as M
from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate every parameter, flattened, into one 1-D tensor (differentiable).
    Flattened by `view`, as in PyTorch: a non-contiguous tensor (`w.t()`) raises its view
    error (`reshape` copied it silently)."""
    return M.cat([param.view(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Give each parameter, in order, the next slice of `vec` as its data (no gradient flows).
    As in PyTorch, each parameter then shares `vec`'s storage: an in-place write to `vec`
    shows in the parameters, and one to a parameter (`p.mul_(2)` under no_grad) in `vec`.

    NOTE: each parameter used to get a copy, so `vec[0] = 100` after the call left
    the weights as they were, where PyTorch's change with it. `p.data = ` a view of `vec`
    now makes the parameter that view (graphnet/_shared_storage.py `share_data`); an
    optimizer step, a compiled call's write-back and `load_state_dict` write through to
    `vec` too, and `p.data = other` unties `p`. Inside a compiled function
    the parameters take the values only (the tie would be state the trace creates): an
    in-place write to either side later in the call raises a TraceError, and after the call
    a write to `vec` does not reach the parameters (graphnet/_shared_storage.py
    `_traced_tie`)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        count = param.numel()
        piece = vec[pointer:pointer + count].view_as(param)
        param.data = piece      # shares vec's storage (eagerly), as `.data =` a view does
        pointer += count


def _typename(obj) -> str:
    kind = type(obj)
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", None) else f"{module}.{kind.__qualname__}"
