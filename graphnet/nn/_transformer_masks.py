"""How PyTorch's TransformerEncoderLayer hands its masks to self-attention.

PyTorch first turns bool masks into additive float masks (True -> -inf). On its ordinary path
those float masks reach MultiheadAttention, which therefore never takes its own fused kernel
(and a fully padded sequence gives zeros, not NaN). On its fused inference kernel the
(merged) float mask is cast back to bool, so ANY nonzero value, finite ones included, masks
the position out."""

from __future__ import annotations

import warnings

from .. import _factories as fac
from .. import _math as M


def canonical_mask(mask, name: str, dtype):
    """PyTorch's `F._canonical_mask`: bool -> float mask of `dtype` with -inf where True; a
    float mask is returned as it is."""
    if mask is None or mask.dtype.is_floating_point:
        return mask
    if mask.dtype.name != "bool":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return M.masked_fill(fac.zeros(tuple(mask.shape), dtype=dtype), mask, float("-inf"))


def fused_kernel_masks(attn_mask, key_padding_mask, src, num_heads: int):
    """(attn_mask, key_padding_mask) as bool masks (True = masked out) that select what
    PyTorch's fused encoder-layer kernel masks: the canonical float masks merged like
    `MultiheadAttention.merge_masks`, then every nonzero entry (-inf, NaN or finite) masked.
    `src` is batch-first [N, L, E]; `attn_mask` [L, L] or [N * heads, L, L], padding [N, L]."""
    attn_mask = canonical_mask(attn_mask, "src_mask", src.dtype)
    key_padding_mask = canonical_mask(key_padding_mask, "src_key_padding_mask", src.dtype)
    if attn_mask is None:
        return None, (None if key_padding_mask is None else key_padding_mask != 0)
    if key_padding_mask is None:
        return attn_mask != 0, None
    n, length = src.shape[0], src.shape[1]
    # NOTE: the masks are added before the cast, so -inf in either one masks the entry, while
    # two finite values that cancel (0.5 + -0.5) leave it open, as in PyTorch.
    attn = attn_mask.reshape(n, -1, length, length) if attn_mask.dim() == 3 else \
        attn_mask.reshape(1, 1, length, length)
    merged = attn.expand(n, num_heads, length, length) + key_padding_mask.reshape(n, 1, 1, length)
    return (merged != 0).reshape(n * num_heads, length, length), None


def warn_mismatched_masks(mask, name: str, other, other_name: str) -> None:
    """PyTorch's deprecation warning for a bool mask given with a float one (or the reverse)."""
    if mask is not None and other is not None and mask.dtype != other.dtype and \
            (mask.dtype.name == "bool" or mask.dtype.is_floating_point):
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      f"type for both instead.", UserWarning, stacklevel=4)
