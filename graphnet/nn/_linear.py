"""Linear, Identity, Flatten, Unflatten."""

from __future__ import annotations

from .. import _dispatch
from .._errors import shape_error
from .._tensor import Tensor
from . import functional as F
from . import init
from ._module import Module


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, weight [out_features, in_features], PyTorch's default init."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 device=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        init.register_weight_and_bias(self, (out_features, in_features), bias, dtype)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise _dispatch.non_tensor_error("linear", 0, input)
        # NOTE: checked against the weight in use, as PyTorch's matmul does, not against
        # in_features: a weight replaced by one of another width (a pruned input feature, a
        # shape-changing parametrization) is what the layer computes with
        weight = self.weight
        if weight is None:
            return F.linear(input, weight, self.bias)   # its TypeError, as PyTorch's
        features = weight.shape[-1] if weight.dim() else self.in_features
        if not input.shape or input.shape[-1] != features:
            raise shape_error(f"expected input [..., {features}], got {list(input.shape)}",
                              module=self)
        return F.linear(input, weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        # kept as given (a Size, tuple or list), which the repr shows as PyTorch's does
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        # Tensor.unflatten's checks: a dim out of range (it wrapped: `Unflatten(3, ...)` of a
        # 3-d input unflattened dim 0) and sizes that do not multiply up raise as PyTorch
        return input.unflatten(self.dim, tuple(self.unflattened_size))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
