"""The Transformer family: encoder and decoder layers, their stacks and the full Transformer,
with PyTorch's constructors, submodule names (so a torch state_dict loads), masks and reprs."""

from __future__ import annotations

import copy
from typing import Callable

from .. import _factories as fac
from .. import _layout as layout
from .._autograd import is_grad_enabled
from ..backends._attention_flags import fastpath_enabled_traced
from .._errors import shape_error
from . import functional as F
from ._activation import GELU, Dropout, ReLU
from ._attention import MultiheadAttention
from ._containers import ModuleList
from ._linear import Linear
from ._module import Module
from ._norm import LayerNorm
from ._transformer_masks import (
    canonical_mask, fused_kernel_masks, warn_mismatched_masks,
)

__all__ = ["TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder", "Transformer"]


def _get_activation_fn(activation: str | Callable) -> Callable:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None):
    """[sz, sz] float mask: -inf above the diagonal (future positions), 0 elsewhere."""
    return layout.triu(fac.full((sz, sz), float("-inf"), dtype=dtype), diagonal=1)


def _causal_hint(is_causal) -> bool:
    # NOTE: PyTorch turns is_causal=None into True when the mask equals the causal mask; that
    # only lets attention skip reading the mask, the numbers are the same. Reading the mask's
    # values would also stop a compiled (static) function, so graphnet keeps the mask.
    return is_causal is True


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm
    (after the residual, or before the block if norm_first). Submodule names follow PyTorch.

    >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, batch_first=True)
    >>> layer(graphnet.randn(2, 5, 16)).shape
    graphnet.Size([2, 5, 16])
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        activation = _get_activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        d_model = self.self_attn.embed_dim
        if src.dim() not in (2, 3) or src.shape[-1] != d_model:
            layout_ = "[N, L, {}]" if self.self_attn.batch_first else "[L, N, {}]"
            raise shape_error(f"expected input {layout_.format(d_model)} or [L, {d_model}] "
                              f"unbatched (d_model={d_model}), got {list(src.shape)}",
                              module=self, asserted=True)   # PyTorch's AssertionError
        warn_mismatched_masks(src_key_padding_mask, "src_key_padding_mask", src_mask,
                              "src_mask")
        fused = self._takes_fused_path(src)
        if fused:   # PyTorch's kernel masks every nonzero entry and ignores the causal hint
            src_mask, src_key_padding_mask = fused_kernel_masks(
                src_mask, src_key_padding_mask, src, self.self_attn.num_heads)
            is_causal = False
        else:       # float masks, so self_attn takes its ordinary path, as in PyTorch
            src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                                  src.dtype)
            src_mask = canonical_mask(src_mask, "src_mask", src.dtype)
        # The fused kernel leaves NaN where a query may attend to nothing (the ordinary path
        # gives zeros): tell self_attn which one PyTorch takes.
        self.self_attn._fused_caller = fused
        # NOTE: the fused kernel knows only relu and exact gelu: any nn.GELU runs as exact
        # gelu there, GELU(approximate='tanh') too (PyTorch passes it just `use_gelu`).
        act = (F.relu if self.activation_relu_or_gelu == 1 else F.gelu) if fused else None
        try:
            x = src
            if self.norm_first:
                x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
                return x + self._ff_block(self.norm2(x), act)
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            return self.norm2(x + self._ff_block(x, act))
        finally:
            self.self_attn._fused_caller = False

    def _takes_fused_path(self, src) -> bool:
        """Whether PyTorch's TransformerEncoderLayer.forward runs its fused inference kernel."""
        attn = self.self_attn
        if src.dim() != 3 or self.training or not attn.batch_first or attn.in_proj_bias is None \
                or not attn._qkv_same_embed_dim or not self.activation_relu_or_gelu or \
                self.norm1.eps != self.norm2.eps or attn.num_heads % 2 or \
                any(m._forward_hooks or m._forward_pre_hooks for m in self.modules()):
            return False
        tensors = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                   attn.out_proj.bias, self.norm1.weight, self.norm1.bias, self.norm2.weight,
                   self.norm2.bias, self.linear1.weight, self.linear1.bias, self.linear2.weight,
                   self.linear2.bias)
        if is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors):
            return False
        return fastpath_enabled_traced()   # graphnet.backends.mha.set_fastpath_enabled

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x, activation=None):
        activation = self.activation if activation is None else activation
        x = self.linear2(self.dropout(activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Masked self-attention, attention over the encoder's `memory`, then a feed-forward
    block; each with a residual connection and LayerNorm (norm_first: before the block).

    >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, batch_first=True)
    >>> layer(graphnet.randn(2, 5, 16), graphnet.randn(2, 7, 16)).shape
    graphnet.Size([2, 5, 16])
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation)

    def __setstate__(self, state: dict) -> None:
        # NOTE: PyTorch's, bug included: a Module activation lives in `_modules`, not in
        # `state`, so a copy (every layer `nn.TransformerDecoder` clones, `deepcopy`, a
        # pickle) gets F.relu in `__dict__`, which hides it. A decoder built with
        # activation=nn.GELU() runs ReLU in PyTorch, and so here, so that weights copied
        # from it give PyTorch's numbers; `repr` still shows the Module, as PyTorch's does.
        if "activation" not in state:
            state["activation"] = F.relu
        super().__setstate__(state)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


from ._transformer_stacks import (  # noqa: E402,I001
    Transformer, TransformerDecoder, TransformerEncoder,
)
