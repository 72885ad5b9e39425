"""PyTorch's grad_fn names for `torch.nn.functional`'s layers and losses (the rest of
`_grad_fn_names.py`), where graphnet's one op stands for PyTorch functions that record
different nodes, or for a composition that ends in another op: `F.interpolate` is
UpsampleNearest2DBackward0 or UpsampleBilinear2DBackward0 by mode and rank, a cross entropy
over a 3-d input NllLoss2DBackward0, a margin loss's mean MeanBackward0 (PyTorch builds it
from ordinary ops). Only the name changes, never the gradient.
"""

from __future__ import annotations

from . import _strides as S
from ._grad_fn_names import renamed

# F.interpolate's upsampling node per mode; nearest modes name their rank
_UPSAMPLE = {"nearest": "Nearest{}D", "nearest-exact": "NearestExact{}D",
             "linear": "Linear1D", "bilinear": "Bilinear2D", "bicubic": "Bicubic2D",
             "trilinear": "Trilinear3D"}


def interpolation(out, mode: str, nd: int):
    """`F.interpolate(x, mode=mode)` over `nd` spatial dims (area mode: an adaptive average
    pool, named as one)."""
    if mode == "area":
        return adaptive_pool(out, "avg", nd)
    return renamed(out, f"Upsample{_UPSAMPLE[mode].format(nd)}Backward0", "interpolate")


def adaptive_pool(out, kind: str, nd: int):
    """An adaptive pool over `nd` dims. PyTorch's 1-d pools are 2-d pools of the unsqueezed
    input, squeezed back (SqueezeBackward1); a 2-d or 3-d average down to one element per
    channel is a mean over the pooled dims (MeanBackward1)."""
    values = out[0] if isinstance(out, tuple) else out   # (values, indices) of a max pool
    if nd == 1:
        name = "SqueezeBackward1"
    elif kind == "avg" and all(size == 1 for size in values.shape[-nd:]):
        name = "MeanBackward1"
    else:
        name = f"Adaptive{kind.title()}Pool{nd}DBackward0"
    renamed(values, name, "adaptive_avg_pool", "adaptive_max_pool",
            "adaptive_max_pool_with_indices")
    return out


def class_loss(out, input_dim: int, reduction: str, label_smoothing: float = 0.0,
               probs: bool = False, unbatched: bool = False):
    """cross_entropy and nll_loss: PyTorch's nll_loss of a 1-d or 2-d input
    (NllLossBackward0), nll_loss2d of more dims (NllLoss2DBackward0), viewed back with
    reduction='none' unless the input is 4-d (ViewBackward0). Label smoothing adds its term
    last (AddBackward0); class probabilities are a negated sum, divided by the batch size
    for the mean (NegBackward0, DivBackward1). `unbatched`: graphnet's result for a [C]
    input, taken from its [1, C] loss."""
    if probs:
        name = "DivBackward1" if reduction == "mean" else "NegBackward0"
    elif label_smoothing > 0:
        name = "AddBackward0"
    elif input_dim <= 2:
        name = "NllLossBackward0"
    elif reduction == "none" and input_dim != 4:
        name = "ViewBackward0"
    else:
        name = "NllLoss2DBackward0"
    made_by = ("getitem", "reshape") if unbatched else \
        ("cross_entropy", "soft_cross_entropy", "nll_loss")
    return renamed(out, name, *made_by)


def reduced_loss(out, reduction: str, unreduced: str, op: str):
    """A loss PyTorch composes from ordinary ops: its mean or sum (MeanBackward0,
    SumBackward0), or with reduction='none' the last op of its formula, `unreduced`."""
    name = {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(reduction, unreduced)
    return renamed(out, name, op)


def attention_name(query, key, value, attn_mask, dropout_p: float, enable_gqa: bool):
    """The node of PyTorch's scaled_dot_product_attention on the CPU, from its inputs as
    given: the fused flash kernel where PyTorch's checks let it run (4-d inputs of one batch
    size and head count, or whole groups of heads with enable_gqa; one head size; non-empty
    sequences; last dims of stride 1; no dropout; no mask, or a 2-d or 4-d one of the right
    shape that needs no grad), else the math path, which ends in a matmul (MmBackward0 for
    2-d inputs, UnsafeViewBackward0 for more). None: not known (an empty sequence)."""
    tensors = (query, key, value)
    if any(t.shape[-2] == 0 for t in tensors):
        return None
    if query.dim() == key.dim() == value.dim() == 4 and _flash_fits(
            query, key, value, attn_mask, dropout_p, enable_gqa):
        return "ScaledDotProductFlashAttentionForCpuBackward0"
    return "MmBackward0" if max(t.dim() for t in tensors) == 2 else "UnsafeViewBackward0"


def _flash_fits(query, key, value, mask, dropout_p: float, enable_gqa: bool) -> bool:
    (batch, heads, length, size), kv_heads = query.shape, key.shape[1]
    if dropout_p > 0 or not batch == key.shape[0] == value.shape[0]:
        return False
    if enable_gqa:
        if heads % kv_heads or kv_heads != value.shape[1]:
            return False
    elif not heads == kv_heads == value.shape[1]:
        return False
    if not 0 < size == key.shape[-1] == value.shape[-1]:
        return False
    if any(S.layout(t)[0][-1] != 1 for t in (query, key, value)):
        return False
    if mask is None:
        return True
    if mask.requires_grad or mask.dim() not in (2, 4) or \
            mask.shape[-2] not in (length, 1) or mask.shape[-1] not in (key.shape[-2], 1):
        return False
    return mask.dim() == 2 or (mask.shape[0] in (1, batch) and mask.shape[1] in (1, heads))
