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
    """Concatenate every parameter, flattened, into one 1-D tensor (differentiable)."""
    return M.cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of `vec` into the parameters' data, in order (no gradient
    flows; like PyTorch, each `param.data` is replaced)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        count = param.numel()
        param.data = vec[pointer:pointer + count].reshape(param.shape).detach()
        pointer += count


def _typename(obj) -> str:
    kind = type(obj)
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", None) else f"{module}.{kind.__qualname__}"
