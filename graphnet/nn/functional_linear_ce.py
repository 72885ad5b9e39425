"""`F.linear_cross_entropy` (a linear layer's logits and cross-entropy in one call) and
`nn.LinearCrossEntropyOptions`, with PyTorch 2.13's signatures and checks.

NOTE: PyTorch's `options` select a chunked kernel that never holds the whole [N, C] logits
(a memory saving for large vocabularies); its numbers are those of the reference path,
`cross_entropy(linear(input, weight, bias), target)`. graphnet always runs the reference
path, which XLA compiles as one program: the options are validated and kept, and change
nothing but PyTorch's memory use."""

from __future__ import annotations

import dataclasses
import math

from .._tensor import Tensor
from .functional_loss import cross_entropy

__all__ = ["linear_cross_entropy", "LinearCrossEntropyOptions"]


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """PyTorch's chunking options of `linear_cross_entropy` (see the module note: graphnet
    accepts and validates them; they do not change the result)."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in {"auto", "accurate", "balanced", "compact"}:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        method = self.chunking_method
        if method is not None and method != "auto" and not (
                method == "aspect_ratio" or method.startswith("aspect_ratio:")
                and method[len("aspect_ratio:"):].isdigit()
                and int(method[len("aspect_ratio:"):]) >= 1):
            raise ValueError(f"invalid chunking_method: {method!r}")


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0,
                         options: LinearCrossEntropyOptions | None = None) -> Tensor:
    """`cross_entropy(linear(input, linear_weight, linear_bias), target, ...)`; a
    [C, d1 .. dK, in_features] weight gives K-dimensional logits [N, C, d1 .. dK].

    >>> F.linear_cross_entropy(torch.randn(8, 16), torch.randn(10, 16),
    ...                        torch.randint(0, 10, (8,)))
    """
    from .functional import linear   # NOTE: functional imports this module
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            f"expected equal input and linear_weight last dimensions (in_features), got "
            f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    n_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (n_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(n_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    logits_shape = (*batches, n_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    del options   # see the module note
    flat = math.prod(out_features, start=n_classes)
    if out_features:
        linear_weight = linear_weight.reshape(flat, in_features)
        linear_bias = None if linear_bias is None else linear_bias.reshape(flat)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)
