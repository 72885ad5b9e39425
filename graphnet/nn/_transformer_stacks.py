"""TransformerEncoder and TransformerDecoder (N deep copies of one layer, then an optional
norm) and the full encoder-decoder Transformer, with PyTorch's names and masks."""

from __future__ import annotations

import warnings

from .. import _factories as fac
from .. import _math as M
from .._autograd import is_grad_enabled
from ..backends._attention_flags import fastpath_enabled_traced
from . import functional as F
from . import init
from ._module import Module
from ._norm import LayerNorm
from ._transformer import (
    TransformerDecoderLayer, TransformerEncoderLayer, _causal_hint,
    _generate_square_subsequent_mask, _get_clones,
)
from ._transformer_masks import canonical_mask, warn_mismatched_masks


def _why_no_nested_tensor(layer) -> str:
    """Why PyTorch would not run this encoder on nested tensors ('' when it would)."""
    if not isinstance(layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    attn = layer.self_attn
    reasons = [(layer.norm_first, "encoder_layer.norm_first was True"),
               (not attn.batch_first, "encoder_layer.self_attn.batch_first was not True"),
               (not attn._qkv_same_embed_dim,
                "encoder_layer.self_attn._qkv_same_embed_dim was not True"),
               (attn.in_proj_bias is None, "encoder_layer.self_attn was passed bias=False"),
               (not layer.activation_relu_or_gelu,
                "encoder_layer.activation_relu_or_gelu was not True"),
               (layer.norm1.eps != layer.norm2.eps,
                "encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps"),
               (attn.num_heads % 2 == 1, "encoder_layer.self_attn.num_heads is odd")]
    return next((why for bad, why in reasons if bad), "")


class TransformerEncoder(Module):
    """`num_layers` deep copies of `encoder_layer` applied in turn, then `norm` if given.

    Like PyTorch, in inference (eval mode, no gradient needed, batch_first layers, a
    left-aligned `src_key_padding_mask` and no `mask`) the padded positions of the output are
    zeros before `norm`: PyTorch runs that case on nested tensors, which drop the padding.
    With mask_check=False any padding mask is read as left-aligned: each row keeps its first
    (number of unpadded) positions.

    >>> layer = nn.TransformerEncoderLayer(16, 4, batch_first=True)
    >>> nn.TransformerEncoder(layer, num_layers=2)(graphnet.randn(2, 5, 16)).shape
    graphnet.Size([2, 5, 16])
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        # Like PyTorch: the layers get float masks (bool True -> -inf); warned here, once.
        warn_mismatched_masks(src_key_padding_mask, "src_key_padding_mask", mask, "mask")
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                              src.dtype)
        mask = canonical_mask(mask, "mask", src.dtype)
        padded, src_key_padding_mask = self._nested_padding(src, mask, src_key_padding_mask)
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=_causal_hint(is_causal),
                           src_key_padding_mask=src_key_padding_mask)
        if padded is not None:
            output = M.masked_fill(output, padded, 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_padding(self, src, mask, key_padding_mask):
        """(padded, layer_mask): padded is [N, S, 1] bool, the output positions PyTorch's
        nested-tensor path leaves at zero, or None where PyTorch takes the ordinary path (its
        conditions, in its order); layer_mask is the padding mask the layers then see."""
        first = self.layers[0]
        if not getattr(self, "use_nested_tensor", False) or first.training or src.dim() != 3 \
                or key_padding_mask is None or mask is not None:
            return None, key_padding_mask
        attn = first.self_attn
        tensors = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                   attn.out_proj.bias, first.norm1.weight, first.norm1.bias, first.norm2.weight,
                   first.norm2.bias, first.linear1.weight, first.linear1.bias,
                   first.linear2.weight, first.linear2.bias)
        if is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors) or \
                not fastpath_enabled_traced():   # graphnet.backends.mha.set_fastpath_enabled
            return None, key_padding_mask
        pad = key_padding_mask if key_padding_mask.dtype.name == "bool" \
            else key_padding_mask != 0
        if getattr(self, "mask_check", True):
            # PyTorch checks the padding is at the end of each row (left-aligned), else it
            # takes the ordinary path. As a tensor, so compiled functions keep the check.
            if pad.shape[-1] > 1:
                aligned = (pad[:, 1:].long() >= pad[:, :-1].long()).all()
                pad = pad & aligned
            return pad.unsqueeze(-1), key_padding_mask
        # NOTE: unchecked, PyTorch only counts each row's unpadded positions and keeps that
        # many from the START of the row: a mask with padding elsewhere acts left-aligned.
        length = pad.shape[-1]
        kept = (~pad).long().sum(-1, keepdim=True)
        left_aligned = fac.arange(length).reshape(1, length) >= kept
        return left_aligned.unsqueeze(-1), left_aligned


class TransformerDecoder(Module):
    """`num_layers` deep copies of `decoder_layer` applied in turn to `tgt` (each attending
    to `memory`), then `norm` if given.

    >>> layer = nn.TransformerDecoderLayer(16, 4, batch_first=True)
    >>> dec = nn.TransformerDecoder(layer, num_layers=2)
    >>> dec(graphnet.randn(2, 5, 16), graphnet.randn(2, 7, 16)).shape
    graphnet.Size([2, 5, 16])
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False):
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=_causal_hint(tgt_is_causal),
                           memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need": `encoder` (or
    `custom_encoder`) reads `src`, `decoder` (or `custom_decoder`) reads `tgt` and attends to
    the encoder's output. Weights with more than one dim get Xavier-uniform init.

    >>> model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1,
    ...                        num_decoder_layers=1, dim_feedforward=32, batch_first=True)
    >>> mask = nn.Transformer.generate_square_subsequent_mask(5)
    >>> model(graphnet.randn(2, 7, 16), graphnet.randn(2, 5, 16), tgt_mask=mask).shape
    graphnet.Size([2, 5, 16])
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation=F.relu, custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, dtype=dtype), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, dtype=dtype), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None):
        """[sz, sz] float mask: -inf above the diagonal (future positions), 0 elsewhere."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
