"""Normalisation modules: BatchNorm1d/2d, LayerNorm, GroupNorm, LocalResponseNorm."""

from __future__ import annotations

import math

import jax

from .. import _dtype as dt
from .. import _factories as fac
from .._autograd import no_grad
from .._aliases import store
from .._errors import shape_error
from .._mode import tracing
from .._tensor import Parameter
from . import functional_norm as F
from . import init
from ._module import Module


def _affine_params(module: Module, shape, affine: bool, bias: bool, dtype) -> None:
    """weight (ones) and optionally bias (zeros) of `shape`, or both registered as None."""
    if affine:
        module.weight = Parameter(fac.ones(*shape, dtype=dtype))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(fac.zeros(*shape, dtype=dtype))
    else:
        module.register_parameter("bias", None)


class _NormBase(Module):
    """What batch and instance norms share, as in PyTorch: constructor, affine parameters,
    running statistics (`running_mean`, `running_var`, `num_batches_tracked`), their reset,
    state-dict loading and repr. The two are siblings, not parent and child, so
    `isinstance(m, _BatchNorm)` (swa_utils.update_bn, SyncBatchNorm.convert_sync_batchnorm)
    leaves instance norms alone, as PyTorch's does."""

    _version = 2   # PyTorch's: version 2 added num_batches_tracked

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        # PyTorch's rule: a state dict of no version (a plain dict, as `graphnet.load` and
        # older checkpoints give) or version 1 may lack num_batches_tracked; it keeps its
        # value (before, strict loading failed on the missing key)
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats \
                and key not in state_dict:
            state_dict[key] = self.num_batches_tracked if self.num_batches_tracked is not None \
                else fac.tensor(0, dtype=dt.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_params(self, (num_features,), affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", fac.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", fac.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", fac.tensor(0, dtype=dt.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalisation over dim 1 with PyTorch's running statistics.

    In training mode the batch statistics normalise the input and update `running_mean` /
    `running_var` (momentum, or a cumulative average when momentum=None) in place, so a
    compiled training step writes them back too; eval mode normalises with them."""

    _ndims: tuple = ()
    _layout = ""

    def _check_input(self, input) -> None:
        if input.dim() not in self._ndims or input.shape[1] != self.num_features:
            raise shape_error(f"expected input {self._layout.format(C=self.num_features)}, "
                              f"got {list(input.shape)}", module=self)

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            if tracing() and _one_value_per_channel(input):
                _count_refused_batch(self.num_batches_tracked)
            with no_grad():
                self.num_batches_tracked._assign(self.num_batches_tracked + 1)
                if self.momentum is None:  # cumulative average: a tensor, so it compiles
                    factor = 1.0 / self.num_batches_tracked.to(_factor_dtype(self))
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)


def _factor_dtype(norm):
    """The dtype of a cumulative average's 1/n: float64 for float64 running statistics
    (PyTorch computes it as a Python double; an int64 count divided made float32, so a
    double BatchNorm's statistics kept float32's precision), else float32."""
    stats = norm.running_mean if norm.running_mean is not None else norm.running_var
    return dt.float64 if stats is not None and stats.dtype == dt.float64 else dt.float32


def _one_value_per_channel(input) -> bool:
    """What F.batch_norm refuses in training: "Expected more than 1 value per channel"."""
    return input.dim() >= 2 and input.shape[0] * math.prod(input.shape[2:]) == 1


def _count_refused_batch(counter) -> None:
    """PyTorch counts the batch before batch_norm refuses it, so after the error
    `num_batches_tracked` is one higher. A compiled step that raises keeps none of its
    trace's writes (the tracer puts the lifted tensors back), so the count is written to the
    concrete buffer here, outside the graph, while the tracer has not lifted it yet.
    NOTE: once lifted in this trace (a module called twice in one step), it cannot be, and
    the count stays where it was before the call."""
    if isinstance(counter._value, jax.Array):
        store(counter, counter._value + 1)


class BatchNorm1d(_BatchNorm):
    """BatchNorm over [N, C] or [N, C, L]."""

    _ndims = (2, 3)
    _layout = "[N, {C}] or [N, {C}, L]"


class BatchNorm2d(_BatchNorm):
    """BatchNorm over [N, C, H, W].

    >>> bn = nn.BatchNorm2d(16)
    >>> bn(graphnet.randn(8, 16, 4, 4)).shape; bn.num_batches_tracked
    graphnet.Size([8, 16, 4, 4])
    tensor(1)
    """

    _ndims = (4,)
    _layout = "[N, {C}, H, W]"


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` dims, with elementwise affine."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_params(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        shape = self.normalized_shape
        if input.dim() < len(shape) or tuple(input.shape[input.dim() - len(shape):]) != shape:
            raise shape_error(f"expected input [*, {', '.join(map(str, shape))}], got "
                              f"{list(input.shape)}", module=self)
        return F.layer_norm(input, shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each of `num_groups` channel groups of [N, C, *]."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        _affine_params(self, (num_channels,), affine, bias, dtype)

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        if input.dim() < 2 or input.shape[1] != self.num_channels:
            raise shape_error(f"expected input [N, {self.num_channels}, *], got "
                              f"{list(input.shape)}", module=self)
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """x / (k + alpha/size * sum of x^2 over `size` neighbouring channels)^beta."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        if input.dim() < 3:
            raise shape_error(f"expected input [N, C, *] with at least one spatial dim, got "
                              f"{list(input.shape)}", module=self)
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
