"""Bilinear, EmbeddingBag, the alpha and 3-D dropouts, Softmax2d and CrossMapLRN2d with
PyTorch's constructors, parameter names, init and reprs; the lazy modules (_lazy.py) are
re-exported from here."""

from __future__ import annotations

import math

from .. import _factories as fac
from .._dispatch import dispatch
from .._tensor import Parameter
from . import functional as F
from . import init
from . import _lazy
from ._activation import _DropoutNd
from ._attention import Embedding
from ._lazy import *  # noqa: F401,F403
from ._module import Module

__all__ = ["Bilinear", "EmbeddingBag", "AlphaDropout", "FeatureAlphaDropout", "Dropout3d",
           "Softmax2d", "CrossMapLRN2d", *_lazy.__all__]


class Bilinear(Module):
    """y = x1^T A x2 + b with weight A [out, in1, in2] and bias [out], both ~ U(-k, k),
    k = 1/sqrt(in1_features).

    >>> nn.Bilinear(3, 5, 2)(graphnet.randn(4, 3), graphnet.randn(4, 5)).shape
    graphnet.Size([4, 2])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(fac.empty(out_features, in1_features, in2_features,
                                          dtype=dtype))
        if bias:
            self.bias = Parameter(fac.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings: `weight` [num_embeddings, dim] ~ N(0, 1),
    bags given as [B, L] indices or flat indices plus `offsets` (see F.embedding_bag).

    >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(graphnet.tensor([1, 2, 4, 5, 4]), graphnet.tensor([0, 2])).shape
    graphnet.Size([2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None):
        super().__init__()
        if sparse:   # refused when built, as Embedding's is (it was refused at its first call)
            raise NotImplementedError("EmbeddingBag: sparse=True is not supported by graphnet "
                                      "(JAX has no sparse gradients); leave it False for a "
                                      "dense one")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(fac.empty(num_embeddings, embedding_dim, dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight)
        self.mode, self.sparse = mode, sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    _fill_padding_idx_with_zero = Embedding._fill_padding_idx_with_zero

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False,
                        padding_idx: int | None = None) -> "EmbeddingBag":
        """An EmbeddingBag holding `embeddings` [num, dim]; frozen unless freeze=False."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks (F.alpha_dropout) in training mode."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels in training mode."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of [N, C, D, H, W] in training mode."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of [N, C, H, W] or [C, H, W]."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             f"instead")
        return F.softmax(input, -3)


class CrossMapLRN2d(Module):
    """Local response normalisation across channels of a 4-D input (PyTorch's legacy
    cross-map LRN): x / (k + alpha/size * sum of x^2 over a window of channels)^beta, with
    PyTorch's window and PyTorch's gradient (graphnet/_ops/layers_extra.py)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             f"instead.")
        return dispatch("cross_map_lrn2d", input, size=int(self.size), alpha=float(self.alpha),
                        beta=float(self.beta), k=float(self.k))

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

