"""`F.instance_norm` and `F.rms_norm`, written with existing ops: instance norm is batch norm
over a [1, N*C, ...] view (as PyTorch computes it), RMS norm is three pointwise steps."""

from __future__ import annotations

import math

import jax.numpy as jnp

from .._autograd import no_grad
from .._dispatch import dispatch
from .._tensor import Tensor

__all__ = ["instance_norm", "rms_norm"]


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) of [N, C, *] over its spatial positions. With
    `use_input_stats=False` the running statistics normalise instead; when given and
    use_input_stats, they are updated in place with the batch-averaged instance statistics.

    >>> F.instance_norm(graphnet.randn(2, 3, 8)).shape
    graphnet.Size([2, 3, 8])
    """
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ValueError(f"instance_norm: expected input [N, C, *] with at least one spatial "
                         f"dim, got {list(shape)}")
    n, c = shape[:2]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        from .functional_norm import batch_norm
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(shape)}")
    if n == 0 and (weight is not None or bias is not None):   # PyTorch's error there
        raise IndexError("select(): index 0 out of range for tensor of size [0] at dimension 0")
    # NOTE: the affine parameters go into the kernel, repeated per sample, so a half input
    # beside float32 parameters is scaled in float32 and keeps its dtype (as PyTorch's does)
    flat = input.reshape(1, n * c, *shape[2:])
    params = [t.repeat(n) for t in (weight, bias) if t is not None]
    y, mean, var = dispatch("batch_norm_train", flat, *params, eps=float(eps),
                            has_weight=weight is not None, has_bias=bias is not None)
    y = y.reshape(*shape)
    with no_grad():
        for buffer, batch in ((running_mean, mean), (running_var, var)):
            if buffer is not None:   # PyTorch averages the per-instance updates over N
                buffer._assign(momentum * batch.reshape(n, c).mean(0) + (1 - momentum) * buffer)
    return y


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """input / sqrt(mean(input^2 over the trailing `normalized_shape` dims) + eps) * weight.
    eps=None means the machine epsilon of the dtype it computes in: half types compute in
    float32, like PyTorch.

    >>> F.rms_norm(graphnet.randn(2, 5, 16), (16,)).shape
    graphnet.Size([2, 5, 16])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{list(shape)}")
    x = input.float() if input.dtype.itemsize < 4 else input
    # NOTE: the default eps is the epsilon of the dtype computed in (float32 for half types)
    eps = float(jnp.finfo(x.dtype.np).eps) if eps is None else float(eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    y = x * (x * x).mean(dims, keepdim=True).add(eps).rsqrt()
    if weight is not None:
        y = y * weight
    return y.to(input.dtype)
