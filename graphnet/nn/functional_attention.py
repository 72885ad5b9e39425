"""Multi-head attention as a function: PyTorch's `F.multi_head_attention_forward`, and the
shared body that `nn.MultiheadAttention` calls with its own output projection.

The steps follow PyTorch's: project q, k, v (packed or separate weights), append the learned
bias_k/bias_v key and the zero key when asked, merge the attention and key-padding masks into
one additive mask, then one `scaled_dot_product_attention` op over [N, heads, L, S]."""

from __future__ import annotations

import math

from .. import _factories as fac
from .. import _math as M
from .._errors import shape_error
from .._tensor import Tensor

__all__ = ["multi_head_attention_forward"]


def _additive_mask(mask: Tensor, dtype) -> Tensor:
    """PyTorch's MultiheadAttention masks: bool True = masked out (becomes -inf); float added."""
    if mask.dtype.name == "bool":
        return M.masked_fill(fac.zeros(tuple(mask.shape), dtype=dtype), mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of masks are supported, got "
                             f"{mask.dtype}")
    return mask.to(dtype)


_C10_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16"}


def _check_mask_dtype(attn_mask, key_padding_mask, dtype, need_weights: bool) -> None:
    """PyTorch's RuntimeError when the merged additive mask (a bool mask counts as `dtype`,
    float masks keep theirs and promote when added) cannot meet the query's `dtype`:
    with weights, its baddbmm wants equal dtypes; without, its SDPA takes float32 too.
    NOTE: graphnet would otherwise cast the mask and compute."""
    from .. import promote_types

    merged = None
    for m in (attn_mask, key_padding_mask):
        if m is not None and m.dtype.is_floating_point:
            merged = m.dtype if merged is None else promote_types(merged, m.dtype)
        elif m is not None:
            merged = dtype if merged is None else promote_types(merged, dtype)
    if merged is None or merged == dtype:
        return
    name, query = _C10_NAMES.get(merged.name, merged.name), _C10_NAMES.get(dtype.name)
    if need_weights:
        raise RuntimeError(f"Input dtypes must be the same, got: input {name}, batch1: "
                           f"{query}, batch2: {query}")
    if merged.name != "float32":
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {name} and  query.dtype: {query} "
                           f"instead.")


def _mask_rank(attn_mask, batched: bool) -> None:
    """PyTorch's first check (an assert) of attn_mask: 2-D or 3-D, whatever its sizes."""
    if attn_mask is not None and attn_mask.dim() not in (2, 3):
        query = "batched (3-D)" if batched else "unbatched (2-D)"
        raise shape_error(f"For {query} `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                          f"but found {attn_mask.dim()}-D tensor instead; pass [L, S] or "
                          f"[batch * num_heads, L, S]", asserted=True)


def _mask_sizes_error(attn_mask, batched: bool, n, heads, tgt, src):
    """PyTorch's words for an attn_mask of the right rank and wrong sizes: a RuntimeError, but
    an assert for a 3-D mask of an unbatched query."""
    if attn_mask.dim() == 2:
        return shape_error(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                           f"{(tgt, src)}.")
    if batched:
        return shape_error(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                           f"{(n * heads, tgt, src)} (batch * num_heads, L, S).")
    return shape_error(f"Expected `attn_mask` shape to be {(heads, tgt, src)} but got "
                       f"{attn_mask.shape}", asserted=True)


def _merged_mask(attn_mask, key_padding_mask, n, heads, tgt, src, dtype, batched=True):
    """attn_mask [L, S] or [N*H, L, S] and key_padding_mask [N, S] -> one additive mask that
    broadcasts against scores [N, H, L, S] (None when there is no mask)."""
    merged = None
    if attn_mask is not None:
        if attn_mask.dim() == 2 and tuple(attn_mask.shape) == (tgt, src):
            merged = _additive_mask(attn_mask, dtype).reshape(1, 1, tgt, src)
        elif attn_mask.dim() == 3 and tuple(attn_mask.shape) == (n * heads, tgt, src):
            merged = _additive_mask(attn_mask, dtype).reshape(n, heads, tgt, src)
        else:
            raise _mask_sizes_error(attn_mask, batched, n, heads, tgt, src)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (n, src):
            raise shape_error(f"key_padding_mask has shape {list(key_padding_mask.shape)}; "
                              f"expected [{n}, {src}] (batch, S)", asserted=True)
        padding = _additive_mask(key_padding_mask, dtype).reshape(n, 1, 1, src)
        merged = padding if merged is None else merged + padding
    return merged


def _in_projection(query, key, value, proj, bias):
    """q, k, v projections. `proj` is the packed [3E, E] weight or (q_w, k_w, v_w)."""
    from .functional import linear

    if not isinstance(proj, tuple) and query is key and key is value:
        return M.chunk(linear(query, proj, bias), 3, dim=-1)   # self-attention: one matmul
    weights = proj if isinstance(proj, tuple) else M.chunk(proj, 3, dim=0)
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
    value [S, N, E] (or [L, E] / [S, E] unbatched). Returns (output, weights or None).

    >>> E = 8; x = graphnet.randn(5, 2, E); w = graphnet.randn(3 * E, E)
    >>> out, _ = F.multi_head_attention_forward(x, x, x, E, 2, w, None, None, None, False,
    ...                                         0.0, graphnet.randn(E, E), None)
    """
    from ._transformer_masks import warn_mismatched_masks
    from .functional import linear

    warn_mismatched_masks(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask")
    if query.shape[-1] != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {query.shape[-1]}")
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                                 "k_proj_weight or v_proj_weight is None")
        proj = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        proj = in_proj_weight
    return _multi_head_attention(
        query, key, value, embed_dim_to_check, num_heads, proj, in_proj_bias,
        lambda x: linear(x, out_proj_weight, out_proj_bias), dropout_p if training else 0.0,
        key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal,
        bias_k=bias_k, bias_v=bias_v, add_zero_attn=add_zero_attn, static_k=static_k,
        static_v=static_v)


def _multi_head_attention(query, key, value, embed_dim, num_heads, proj, in_proj_bias,
                          out_proj, dropout_p, key_padding_mask, need_weights, attn_mask,
                          average_attn_weights, is_causal, *, bias_k=None, bias_v=None,
                          add_zero_attn=False, static_k=None, static_v=None, nan_rows=False):
    """The body of multi_head_attention_forward, with the output projection as a callable: the
    MultiheadAttention module passes its `out_proj` submodule, so a trace names its weights.
    `dropout_p` is already 0 outside training. `nan_rows`: a query with nothing to attend to
    gives NaN, as in PyTorch's fused inference kernels, rather than its SDPA path's zeros."""
    from .functional_seq import _attention

    batched = query.dim() == 3
    _mask_rank(attn_mask, batched)
    if not batched:
        query, key, value = _unsqueeze_same(query, key, value)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt, n, _ = query.shape
    if query.shape[-1] != embed_dim or key.dim() != 3 or value.dim() != 3 or \
            tuple(key.shape[:2]) != tuple(value.shape[:2]) or key.shape[1] != n:
        raise shape_error(f"expected query [L, N, {embed_dim}] and key, value [S, N, *] with "
                          f"the same S and N, got {list(query.shape)}, {list(key.shape)}, "
                          f"{list(value.shape)}", asserted=True)   # PyTorch asserts it
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must both be set or both be None")
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise AssertionError("bias cannot be added to static key or value.")
    head_dim = embed_dim // num_heads
    src = key.shape[0] if static_k is None else static_k.shape[1]
    # PyTorch's fused inference path (`nan_rows`) never reads the hint: the mask as given
    is_causal = is_causal and not nan_rows
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                           "nn.Transformer.generate_square_subsequent_mask to create it.")
    # Elsewhere PyTorch trusts the hint (and ignores the mask) only when there is no padding
    # mask and no weights are requested; otherwise the mask itself is used.
    causal = is_causal and key_padding_mask is None and not need_weights
    _check_mask_dtype(None if causal else attn_mask, key_padding_mask, query.dtype,
                      need_weights)
    mask = _merged_mask(None if causal else attn_mask, key_padding_mask, n, num_heads, tgt, src,
                        query.dtype, batched)
    q, k, v = _in_projection(query, key, value, proj, in_proj_bias)
    if bias_k is not None:   # one learned key/value more per batch element
        k = M.cat([k, bias_k.reshape(1, 1, embed_dim).expand(1, n, embed_dim)])
        v = M.cat([v, bias_v.reshape(1, 1, embed_dim).expand(1, n, embed_dim)])
    # [S, N, E] -> [N, H, S, head_dim]
    q, k, v = (x.reshape(x.shape[0], n, num_heads, head_dim).permute(1, 2, 0, 3)
               for x in (q, k, v))
    k = k if static_k is None else _static(static_k, n, num_heads, head_dim, "static_k")
    v = v if static_v is None else _static(static_v, n, num_heads, head_dim, "static_v")
    if add_zero_attn:        # and one all-zero key/value
        zeros = fac.zeros(n, num_heads, 1, head_dim, dtype=k.dtype)
        k, v = M.cat([k, zeros], dim=2), M.cat([v, zeros], dim=2)
    extra = k.shape[2] - src
    if mask is not None and extra:   # the appended keys are never masked
        mask = M.cat([mask, fac.zeros(*mask.shape[:-1], extra, dtype=mask.dtype)], dim=-1)
    out, weights = _attention(q, k, v, mask, scale=1.0 / math.sqrt(head_dim), is_causal=causal,
                              dropout_p=dropout_p, safe_softmax=not (need_weights or nan_rows))
    out = out_proj(out.permute(2, 0, 1, 3).reshape(tgt, n, embed_dim))
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return (out, weights) if batched else (out.squeeze(1), weights.squeeze(0))


def _static(t, n, heads, head_dim, name):
    if t.dim() != 3 or t.shape[0] != n * heads or t.shape[2] != head_dim:
        raise AssertionError(f"expecting {name} of shape [{n * heads}, S, {head_dim}], got "
                             f"{list(t.shape)}")
    return t.reshape(n, heads, t.shape[1], head_dim)


def _unsqueeze_same(query, key, value):
    """Add the batch axis, keeping `query is key` (self-attention) detectable afterwards."""
    q = query.unsqueeze(1)
    k = q if key is query else key.unsqueeze(1)
    v = k if value is key else (q if value is query else value.unsqueeze(1))
    return q, k, v
