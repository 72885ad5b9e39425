"""The sequence functions of `graphnet.nn.functional`: embedding and attention. Re-exported by
`functional.py`, so users write `F.embedding`, `F.scaled_dot_product_attention` ..."""

from __future__ import annotations

import math

from .. import _autocast, _random
from ..backends._attention_flags import check_sdp_allowed
from .._dispatch import dispatch
from .._errors import ArgumentError, DtypeError
from .._grad_fn_names import renamed
from .._grad_fn_names_nn import attention_name
from .._tensor import Tensor

__all__ = ["embedding", "scaled_dot_product_attention", "multi_head_attention_forward"]


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of `weight` selected by the integer tensor `input`: out[...] = weight[input[...]].

    >>> F.embedding(graphnet.tensor([[0, 2]]), graphnet.randn(3, 4)).shape
    graphnet.Size([1, 2, 4])
    """
    for name, position, value in (("indices", 2, input), ("weight", 1, weight)):
        if not isinstance(value, Tensor):   # PyTorch's TypeError (a list had no `.dtype`)
            raise TypeError(f"embedding(): argument '{name}' (position {position}) must be "
                            f"Tensor, not {type(value).__name__}")
    if sparse:
        raise NotImplementedError("embedding: sparse=True is not supported by graphnet (JAX "
                                  "has no sparse gradients); leave it False for a dense one")
    if padding_idx is not None:   # checked before the indices' dtype, as in PyTorch
        num = weight.shape[0]
        if not -num <= padding_idx < num:   # PyTorch asserts it: an AssertionError too
            raise ArgumentError(f"Padding_idx must be within num_embeddings, got "
                                f"{padding_idx} for {num} embeddings (weight.shape[0])")
        padding_idx %= num
    if input.dtype.name not in ("int64", "int32"):
        # PyTorch takes int64 and int32 indices only (a uint8 index was read as numbers)
        raise DtypeError(f"Expected tensor for argument #1 'indices' to have one of the "
                         f"following scalar types: Long, Int; but got {input.dtype} instead "
                         f"(while checking arguments for embedding); use `input.long()`")
    if weight.dim() != 2:   # a 1-D weight would otherwise give numbers PyTorch refuses
        raise RuntimeError("'weight' must be 2-D")
    if max_norm is not None:   # PyTorch renormalises the rows it reads, in place
        from .functional_layers_extra import _renorm_rows_
        _renorm_rows_(weight, input, max_norm, norm_type)
    # NOTE: the op's value check refuses out-of-range rows (negative ones too) with PyTorch's
    # IndexError, eagerly and in compiled programs (graphnet/_ops/sequence.py).
    return dispatch("embedding", weight, input, padding_idx=padding_idx,
                    scale_grad_by_freq=bool(scale_grad_by_freq))


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
    scores; with `is_causal` too, both apply (4-D inputs; PyTorch refuses the pair for
    others). Rows with nothing to attend to give zeros, like PyTorch. Dropout (`dropout_p`)
    applies whenever it is positive: this function has no training flag. With `enable_gqa`,
    key and value may have fewer heads (dim -3) than query; each serves a group of query heads.

    >>> q = graphnet.randn(2, 8, 5, 16); kv = graphnet.randn(2, 2, 7, 16)
    >>> F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True).shape
    graphnet.Size([2, 8, 5, 16])
    """
    if _autocast.active and _autocast.policy("scaled_dot_product_attention", (), {}):
        # as PyTorch's autocast, before its checks: a bf16 query with a float32 key and value
        # (a float32 KV cache) is one dtype once cast (the check refused it)
        query, key, value = _autocast._cast_arguments("lower", (query, key, value))
    _check_sdpa_inputs(query, key, value, attn_mask, dropout_p)
    # the kernels nn.attention.sdpa_kernel / backends.cuda.enable_*_sdp leave allowed
    check_sdp_allowed(query, key, value, dropout_p, enable_gqa)
    if is_causal and attn_mask is not None and (query.dim() != 4
                                                or value.shape[-1] != query.shape[-1]):
        # NOTE: torch 2.13's CPU kernel for 4-D inputs whose values have the queries' head
        # size applies both masks; its other kernel refuses the pair
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    # PyTorch's node depends on the kernel it picks, from the inputs as given
    name = attention_name(query, key, value, attn_mask, dropout_p, enable_gqa)
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3:
        key, value = _repeat_kv_heads(query, key, value)
    if attn_mask is not None and attn_mask.dtype.name != "bool":
        attn_mask = attn_mask.to(query.dtype)
    if scale is None:   # with no head dim (E == 0) the scores are all 0, whatever the scale
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    if dropout_p >= 1.0:   # every weight dropped: zeros, with zero gradients
        out = _attention(query, key, value, attn_mask, scale=scale, is_causal=is_causal)[0] * 0.0
    else:
        out = _attention(query, key, value, attn_mask, scale=scale, is_causal=is_causal,
                         dropout_p=dropout_p)[0]
    return renamed(out, name, "scaled_dot_product_attention", "mul")


def _check_sdpa_inputs(query, key, value, attn_mask, dropout_p) -> None:
    """PyTorch's argument checks, in its order, with its messages (all RuntimeError)."""
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
                           f"{value.dtype} instead; cast them to one dtype first")
    if min(query.dim(), key.dim(), value.dim()) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be at least 2 dimensional, "
                           f"but got query.dim: {query.dim()} key.dim: {key.dim()} and "
                           f"value.dim: {value.dim()} instead")
    # NOTE: PyTorch takes a float32 mask for any query dtype, other float masks only when they
    # match the query's dtype.
    if attn_mask is not None and attn_mask.dtype.name not in ("bool", "float32") and \
            attn_mask.dtype != query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype} and  "
                           f"query.dtype: {query.dtype} instead.")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")


def _repeat_kv_heads(query, key, value):
    """Grouped-query attention: repeat each key/value head over its group of query heads."""
    heads, kv_heads = query.shape[-3], key.shape[-3]
    if kv_heads != value.shape[-3] or heads % kv_heads:
        raise RuntimeError(f"Number of heads in key and value must divide the number of heads "
                           f"in query (query {heads}, key {kv_heads}, value {value.shape[-3]})")
    if heads == kv_heads:
        return key, value
    group = heads // kv_heads

    def repeat(x):  # [..., Hkv, S, E] -> [..., Hkv * group, S, E], each head `group` times
        shape = tuple(x.shape)
        grouped = x.unsqueeze(-3).expand(*shape[:-2], group, *shape[-2:])
        return grouped.reshape(*shape[:-3], heads, *shape[-2:])
    return repeat(key), repeat(value)


# MultiheadAttention's functional form lives in its own file; its name belongs here.
from .functional_attention import _multi_head_attention, multi_head_attention_forward  # noqa: E402,F401,I001
