"""The sequence functions of `graphnet.nn.functional`: embedding and attention. Re-exported by
`functional.py`, so users write `F.embedding`, `F.scaled_dot_product_attention` ..."""

from __future__ import annotations

import math

from .. import _factories as fac
from .. import _math as M
from .. import _random
from .._dispatch import dispatch
from .._errors import shape_error
from .._tensor import Tensor

__all__ = ["embedding", "scaled_dot_product_attention", "multi_head_attention_forward"]


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of `weight` selected by the integer tensor `input`: out[...] = weight[input[...]].

    >>> F.embedding(graphnet.tensor([[0, 2]]), graphnet.randn(3, 4)).shape
    graphnet.Size([1, 2, 4])
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported by graphnet; leave them at their defaults")
    if input.dtype.is_floating_point or input.dtype.name == "bool":
        raise TypeError(f"embedding: indices must be integers (graphnet.int64), got {input.dtype}; "
                        f"use `input.long()`")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"padding_idx {padding_idx} must be within num_embeddings ({num})")
        padding_idx %= num
    # NOTE: the op's value check refuses out-of-range rows (negative ones too) with PyTorch's
    # IndexError, eagerly and in compiled programs (graphnet/_ops/sequence.py).
    return dispatch("embedding", weight, input, padding_idx=padding_idx)


# ---- attention --------------------------------------------------------------------------------
def _attention(q, k, v, mask, *, scale, is_causal=False, dropout_p=0.0, safe_softmax=True):
    extra = ([] if mask is None else [mask]) + ([_random.key()] if dropout_p else [])
    return dispatch("scaled_dot_product_attention", q, k, v, *extra, scale=float(scale),
                    is_causal=bool(is_causal), has_mask=mask is not None,
                    dropout_p=float(dropout_p), safe_softmax=safe_softmax)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query key^T * scale + mask) value over the last two axes, as one op.

    A bool `attn_mask` marks where attention is allowed (True); a float mask is added to the
    scores. Rows with nothing to attend to give zeros, like PyTorch."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported; "
                                  "repeat key/value heads with `repeat_interleave` instead")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or "
                           "is_causal=True, not both")
    if attn_mask is not None and attn_mask.dtype.name != "bool":
        attn_mask = attn_mask.to(query.dtype)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    return _attention(query, key, value, attn_mask, scale=scale, is_causal=is_causal,
                      dropout_p=dropout_p)[0]


def _additive_mask(mask: Tensor, dtype) -> Tensor:
    """PyTorch's MultiheadAttention masks: bool True = masked out (becomes -inf); float added."""
    if mask.dtype.name == "bool":
        return M.masked_fill(fac.zeros(tuple(mask.shape), dtype=dtype), mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise TypeError(f"attention masks must be bool or float, got {mask.dtype}")
    return mask.to(dtype)


def _merged_mask(attn_mask, key_padding_mask, n, heads, tgt, src, dtype):
    """attn_mask [L, S] or [N*H, L, S] and key_padding_mask [N, S] -> one additive mask that
    broadcasts against scores [N, H, L, S] (None when there is no mask)."""
    merged = None
    if attn_mask is not None:
        if attn_mask.dim() == 2 and tuple(attn_mask.shape) == (tgt, src):
            merged = _additive_mask(attn_mask, dtype).reshape(1, 1, tgt, src)
        elif attn_mask.dim() == 3 and tuple(attn_mask.shape) == (n * heads, tgt, src):
            merged = _additive_mask(attn_mask, dtype).reshape(n, heads, tgt, src)
        else:
            raise shape_error(f"attn_mask has shape {list(attn_mask.shape)}; expected "
                              f"[{tgt}, {src}] or [{n * heads}, {tgt}, {src}] "
                              f"(batch * num_heads, L, S)")
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (n, src):
            raise shape_error(f"key_padding_mask has shape {list(key_padding_mask.shape)}; "
                              f"expected [{n}, {src}] (batch, S)")
        padding = _additive_mask(key_padding_mask, dtype).reshape(n, 1, 1, src)
        merged = padding if merged is None else merged + padding
    return merged


def _in_projection(query, key, value, weight, bias):
    from .functional import linear

    if query is key and key is value:  # self-attention: one matmul for q, k and v
        return M.chunk(linear(query, weight, bias), 3, dim=-1)
    weights = M.chunk(weight, 3, dim=0)
    biases = M.chunk(bias, 3, dim=0) if bias is not None else (None, None, None)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases,
                                                         strict=True))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """PyTorch's functional multi-head attention. Sequence-first: query [L, N, E], key and
    value [S, N, E] (or [L, E] / [S, E] unbatched). Returns (output, weights or None)."""
    from .functional import linear

    if bias_k is not None or bias_v is not None or add_zero_attn or use_separate_proj_weight \
            or static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: bias_k/bias_v, add_zero_attn, "
                                  "separate projection weights and static_k/v are not supported")
    return _multi_head_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
        lambda x: linear(x, out_proj_weight, out_proj_bias), dropout_p, training,
        key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal)


def _multi_head_attention(query, key, value, embed_dim, num_heads, in_proj_weight, in_proj_bias,
                          out_proj, dropout_p, training, key_padding_mask, need_weights,
                          attn_mask, average_attn_weights, is_causal):
    """multi_head_attention_forward with the output projection as a callable: the
    MultiheadAttention module passes its `out_proj` submodule, so a trace names its weights."""
    batched = query.dim() == 3
    if not batched:
        query, key, value = _unsqueeze_same(query, key, value)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt, n, _ = query.shape
    src = key.shape[0]
    if query.shape[-1] != embed_dim or key.shape[-1] != embed_dim or \
            tuple(key.shape) != tuple(value.shape) or key.shape[1] != n:
        raise shape_error(f"expected query [L, N, {embed_dim}] and key, value "
                          f"[S, N, {embed_dim}], got {list(query.shape)}, {list(key.shape)}, "
                          f"{list(value.shape)}")
    head_dim = embed_dim // num_heads
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                           "nn.Transformer.generate_square_subsequent_mask to create it.")
    # PyTorch trusts the hint (and ignores the mask) only on its fused path: no padding mask and
    # no weights requested. Elsewhere the mask itself is used.
    causal = is_causal and key_padding_mask is None and not need_weights
    mask = _merged_mask(None if causal else attn_mask, key_padding_mask, n, num_heads, tgt, src,
                        query.dtype)
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias)
    # [L, N, E] -> [N, H, L, head_dim]
    q, k, v = (x.reshape(x.shape[0], n, num_heads, head_dim).permute(1, 2, 0, 3)
               for x in (q, k, v))
    out, weights = _attention(q, k, v, mask, scale=1.0 / math.sqrt(head_dim), is_causal=causal,
                              dropout_p=dropout_p if training else 0.0,
                              safe_softmax=not need_weights)
    out = out_proj(out.permute(2, 0, 1, 3).reshape(tgt, n, embed_dim))
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return (out, weights) if batched else (out.squeeze(1), weights.squeeze(0))


def _unsqueeze_same(query, key, value):
    """Add the batch axis, keeping `query is key` (self-attention) detectable afterwards."""
    q = query.unsqueeze(1)
    k = q if key is query else key.unsqueeze(1)
    v = k if value is key else (q if value is query else value.unsqueeze(1))
    return q, k, v
