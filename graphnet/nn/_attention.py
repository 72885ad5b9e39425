"""Embedding and MultiheadAttention with PyTorch's constructors, parameter names, module names
and reprs. (TransformerEncoderLayer, imported from here too, lives in _transformer.py.)"""

from __future__ import annotations


from .. import _factories as fac
from .._autograd import is_grad_enabled, no_grad
from .._errors import ArgumentError, shape_error
from ..backends._attention_flags import fastpath_enabled_traced
from .._tensor import Parameter
from . import functional as F
from . import init
from .functional_attention import _multi_head_attention
from ._linear import Linear
from ._module import Module
from ._transformer_masks import warn_mismatched_masks


class Embedding(Module):
    """A lookup table: `weight[input]`, weight [num_embeddings, embedding_dim] ~ N(0, 1).
    The `padding_idx` row starts at zero and never receives a gradient.

    >>> emb = nn.Embedding(10, 3, padding_idx=0); emb(graphnet.tensor([[1, 0]])).shape
    graphnet.Size([1, 2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding: sparse=True is not supported by graphnet "
                                      "(JAX has no sparse gradients); leave it False for a "
                                      "dense one")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(f"Padding_idx must be within num_embeddings, got "
                                    f"{padding_idx} for {num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(fac.empty(num_embeddings, embedding_dim, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                # NOTE: PyTorch asserts here; `Embedding(2, 2, _weight=ones(3, 2))` raised a
                # plain ValueError that `except AssertionError` missed. ArgumentError is both.
                raise ArgumentError(f"Shape of weight does not match num_embeddings and "
                                    f"embedding_dim (weight {list(_weight.shape)}, expected "
                                    f"{[num_embeddings, embedding_dim]})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        """Zero the padding row (PyTorch's name: subclasses call it after their own init)."""
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        **kwargs) -> "Embedding":
        """An Embedding holding `embeddings` [num, dim]; frozen (no grad) unless freeze=False."""
        if embeddings.dim() != 2:
            raise ArgumentError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, _weight=embeddings, _freeze=freeze, **kwargs)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s


class NonDynamicallyQuantizableLinear(Linear):
    """A plain Linear. PyTorch gives MultiheadAttention's output projection this class name;
    graphnet keeps it so that reprs match."""


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention with a packed q/k/v input projection (separate
    q/k/v weights when kdim or vdim differ from embed_dim).

    Inputs are [L, N, E] ([N, L, E] if batch_first, [L, E] unbatched). Masks: bool True means
    "do not attend"; float masks are added to the scores. Returns (output, weights), weights
    averaged over heads unless average_attn_weights=False, None if need_weights=False.
    add_bias_kv appends a learned key and value, add_zero_attn an all-zero one.

    >>> mha = nn.MultiheadAttention(16, 4, batch_first=True); x = graphnet.randn(2, 5, 16)
    >>> out, weights = mha(x, x, x)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError(f"embed_dim must be divisible by num_heads (embed_dim="
                                 f"{embed_dim}, num_heads={num_heads})")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(fac.empty(3 * embed_dim, embed_dim, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(fac.empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(fac.empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(fac.empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(fac.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(fac.empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(fac.empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def _check(self, name: str, x, dim: int) -> None:
        if x.dim() not in (2, 3) or x.shape[-1] != dim:
            layout = "[N, L, {}]" if self.batch_first else "[L, N, {}]"
            raise shape_error(f"expected input {name} {layout.format(dim)} or "
                              f"[L, {dim}] unbatched, got {list(x.shape)}",
                              module=self, asserted=True)   # PyTorch asserts it

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        for name, x, dim in (("query", query, self.embed_dim), ("key", key, self.kdim),
                             ("value", value, self.vdim)):
            self._check(name, x, dim)
        warn_mismatched_masks(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask")
        batched = query.dim() == 3
        # PyTorch's fused inference kernels leave NaN (not zeros) where a query may attend to
        # nothing; its other paths give zeros. Which one PyTorch takes decides our numbers.
        nan_rows = getattr(self, "_fused_caller", False) or \
            _takes_fused_path(self, query, key, value, attn_mask, key_padding_mask)
        if self.batch_first and batched:
            query, key, value = _transpose_same(query, key, value)
        proj = self.in_proj_weight if self._qkv_same_embed_dim else \
            (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        out, weights = _multi_head_attention(
            query, key, value, self.embed_dim, self.num_heads, proj, self.in_proj_bias,
            self.out_proj, self.dropout if self.training else 0.0, key_padding_mask,
            need_weights, attn_mask, average_attn_weights, is_causal, bias_k=self.bias_k,
            bias_v=self.bias_v, add_zero_attn=self.add_zero_attn, nan_rows=nan_rows)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights


def _takes_fused_path(mha: MultiheadAttention, query, key, value, attn_mask,
                      key_padding_mask) -> bool:
    """Whether PyTorch's MultiheadAttention.forward would run its fused inference kernel."""
    if any(m is not None and m.dtype.is_floating_point for m in (attn_mask, key_padding_mask)):
        return False
    if query.dim() != 3 or query is not key or key is not value or mha.training or \
            mha.num_heads % 2 or not mha.batch_first or mha.bias_k is not None or \
            mha.add_zero_attn or not mha._qkv_same_embed_dim or mha.in_proj_bias is None or \
            query.dtype != mha.in_proj_weight.dtype:
        return False
    tensors = (query, mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight,
               mha.out_proj.bias)
    if is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors):
        return False
    return fastpath_enabled_traced()   # graphnet.backends.mha.set_fastpath_enabled


def _transpose_same(query, key, value):
    """Swap batch and sequence axes, keeping `query is key is value` true where it was."""
    q = query.transpose(1, 0)
    k = q if key is query else key.transpose(1, 0)
    v = k if value is key else (q if value is query else value.transpose(1, 0))
    return q, k, v


# The Transformer layers build on MultiheadAttention; nn imports TransformerEncoderLayer here.
from ._transformer import TransformerEncoderLayer  # noqa: E402,F401,I001
