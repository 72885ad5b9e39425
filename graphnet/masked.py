"""`torch.masked`'s reductions and normalizations over plain tensors with a boolean `mask=`.

Each function takes a tensor and a mask that broadcasts to it, replaces the masked-out
elements by the identity of its reduction (0 for sums, 1 for products, the dtype's lowest or
highest value for maxima and minima, NaN for the median) and runs the plain op, as PyTorch's
do: `masked.amax(x, 1, mask=m)` is -inf for a row with nothing kept, `masked.mean` divides
by the number kept (NaN for none), `masked.softmax` gives 0 where masked and NaN for a row
with nothing kept. Without a mask each is the plain op (with PyTorch's dtype rules: integer
sums and products in int64, `argmax` in the input's dtype). Masked-out elements get no
gradient. The `MaskedTensor` subclass is not provided."""

from __future__ import annotations

import math

from . import _dtype as dt
from ._factories import tensor as _as_tensor
from ._tensor import Tensor

__all__ = ["sum", "prod", "amax", "amin", "argmax", "argmin", "mean", "median", "logsumexp",
           "norm", "var", "std", "softmax", "log_softmax", "softmin", "normalize", "cumsum",
           "cumprod", "logaddexp"]

_SUBCLASS = ("MaskedTensor", "masked_tensor", "as_masked_tensor", "is_masked_tensor",
             "maskedtensor")
_NARROW_INTS = ("uint8", "bool", "int8", "int16", "int32")   # summed in int64


def __getattr__(name: str):
    if name in _SUBCLASS:
        raise AttributeError(f"graphnet.masked.{name}: masked tensors are a prototype tensor "
                             f"subclass graphnet does not provide; pass mask= to the "
                             f"functions of graphnet.masked, or use where / masked_fill")
    raise AttributeError(f"module 'graphnet.masked' has no attribute '{name}'")


def _input_mask(input: Tensor, mask) -> Tensor | None:
    """`mask` as a bool tensor of `input`'s shape (None: no mask)."""
    if mask is None:
        return None
    import graphnet

    mask = mask if isinstance(mask, Tensor) else _as_tensor(mask)
    if tuple(mask.shape) != tuple(input.shape):
        if mask.dim() > input.dim():
            raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality "
                             "higher than of the input)")
        mask = graphnet.broadcast_to(mask, input.shape)
    return mask.to(dt.bool_)


def _dims(dim, ndim: int) -> tuple:
    """The reduced dims as PyTorch's masked ops read `dim`: None or () is every dim."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    out = []
    for d in (dim,) if isinstance(dim, int) else dim:
        if d in out:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        out.append(d % ndim)
    return tuple(sorted(out))


def _identity(op: str, input: Tensor, ord=None) -> Tensor:
    """The value a masked-out element takes for reduction `op` (PyTorch's table)."""
    import graphnet

    dtype = input.dtype
    floating = dtype.is_floating_point
    if op in ("sum", "cumsum") or (op == "norm" and ord != -math.inf):
        value = 0
    elif op in ("prod", "cumprod"):
        value = 1
    elif op == "norm":
        value = math.inf
    elif op == "median":
        return _as_tensor(math.nan, dtype=dtype if floating else dt.float32)
    elif op in ("amax", "argmax", "logaddexp", "logsumexp", "amin", "argmin"):
        low = op not in ("amin", "argmin")
        if floating:
            value = -math.inf if low else math.inf
        elif dtype.is_signed or dtype.name == "uint8":
            info = graphnet.iinfo(dtype)
            value = info.min if low else info.max
        else:
            raise NotImplementedError(f"identity of {op} on {dtype} input")
    return _as_tensor(value, dtype=dtype)


def _filled(op: str, input: Tensor, mask, ord=None) -> Tensor:
    """`input` with its masked-out elements replaced by `op`'s identity."""
    import graphnet

    mask = _input_mask(input, mask)
    if mask is None:
        return input
    return graphnet.where(mask, input, _identity(op, input, ord))


def _int64_unless(dtype, input: Tensor):
    if dtype is not None:
        return dtype
    return dt.int64 if input.dtype.name in _NARROW_INTS else input.dtype


def sum(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None, mask=None) -> Tensor:
    """Sum of the kept elements over `dim` (every dim by default)."""
    import graphnet

    dtype = _int64_unless(dtype, input)
    return graphnet.sum(_filled("sum", input, mask), _dims(dim, input.dim()), bool(keepdim),
                        dtype=dtype)


def prod(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None, mask=None) -> Tensor:
    """Product of the kept elements over `dim` (1 where none is kept)."""
    result = _filled("prod", input, mask).to(_int64_unless(dtype, input))
    for d in reversed(_dims(dim, input.dim())):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result


def amax(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None, mask=None) -> Tensor:
    """Largest kept element over `dim` (-inf, or the dtype's lowest value, where none is)."""
    import graphnet

    out = graphnet.amax(_filled("amax", input, mask), _dims(dim, input.dim()), bool(keepdim))
    return out.to(dtype or input.dtype)


def amin(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None, mask=None) -> Tensor:
    """Smallest kept element over `dim` (inf, or the dtype's highest value, where none is)."""
    import graphnet

    out = graphnet.amin(_filled("amin", input, mask), _dims(dim, input.dim()), bool(keepdim))
    return out.to(dtype or input.dtype)


def argmax(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype=None,
           mask=None) -> Tensor:
    """Index of the largest kept element, in the input's dtype as PyTorch returns it."""
    import graphnet

    out = graphnet.argmax(_filled("argmax", input, mask), dim, bool(keepdim))
    return out.to(dtype or input.dtype)


def argmin(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype=None,
           mask=None) -> Tensor:
    """Index of the smallest kept element, in the input's dtype as PyTorch returns it."""
    import graphnet

    out = graphnet.argmin(_filled("argmin", input, mask), dim, bool(keepdim))
    return out.to(dtype or input.dtype)


def mean(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None, mask=None) -> Tensor:
    """Mean of the kept elements (NaN where none is kept); floating dtypes only."""
    source = "Optional" if dtype is not None else "Input"
    dtype = dtype or input.dtype
    if not dtype.is_floating_point:
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either "
                         f"a floating point or complex dtype. Got: {dtype}")
    inmask = _input_mask(input, mask)
    total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)
    return total / _count(input, inmask, dim, bool(keepdim))


def _count(input: Tensor, inmask, dim, keepdim: bool) -> Tensor:
    """How many elements are kept over `dim` (int64)."""
    import graphnet

    kept = graphnet.ones(input.shape, dtype=dt.int64) if inmask is None else inmask
    if inmask is None:
        return sum(kept, dim, keepdim=keepdim)
    return kept.sum() if dim is None and not keepdim else \
        kept.sum(dim=_dims(dim, input.dim()), keepdim=keepdim)


def _var(input: Tensor, dim, unbiased, correction, keepdim: bool, dtype, mask,
         sqrt: bool) -> Tensor:
    import graphnet

    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    drop = 1.0 if unbiased is None else float(bool(unbiased))
    drop = float(correction) if correction is not None else drop
    dtype = dtype or (input.dtype if input.dtype.is_floating_point else dt.float32)
    compute = dtype if dtype.is_floating_point else dt.float32
    inmask = _input_mask(input, mask)
    count = _count(input, inmask, dim, True)
    centred = input - sum(input, dim, keepdim=True, dtype=dtype, mask=inmask) / count
    total = sum(centred * centred, dim, keepdim=keepdim, dtype=compute, mask=inmask)
    if not keepdim:
        count = count.reshape(total.shape)
    if drop != 0:
        count = graphnet.clamp_min(count.to(compute) - drop, 0)
    out = (total / count).to(dtype)
    return graphnet.sqrt(out) if sqrt else out


def var(input: Tensor, dim=None, unbiased: bool | None = None, *, correction=None,
        keepdim: bool = False, dtype=None, mask=None) -> Tensor:
    """Variance of the kept elements (`correction` 1 by default; NaN where too few)."""
    return _var(input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(input: Tensor, dim=None, unbiased: bool | None = None, *, correction=None,
        keepdim: bool = False, dtype=None, mask=None) -> Tensor:
    """Standard deviation of the kept elements (the square root of `var`)."""
    return _var(input, dim, unbiased, correction, keepdim, dtype, mask, True)


def median(input: Tensor, dim: int = -1, *, keepdim: bool = False, dtype=None,
           mask=None) -> Tensor:
    """Lower median of the kept elements along `dim` (NaN where none is kept; an integer
    input with such a row raises)."""
    import graphnet

    dtype = dtype or input.dtype
    d = _dims(dim, input.dim())[0]
    floating = input.dtype.is_floating_point
    values = input if floating else input.to(dt.float32)
    out = graphnet.nanmedian(_filled("median", values, mask), d, keepdim).values
    if floating:
        return out
    if bool(graphnet.isnan(out).any()):
        raise ValueError("masked median expects no fully masked out rows if dtype is not "
                         "floating point")
    return out.to(dtype)


def logsumexp(input: Tensor, dim=None, *, keepdim: bool = False, dtype=None,
              mask=None) -> Tensor:
    """log(sum(exp)) of the kept elements (-inf where none is kept)."""
    import graphnet

    out = graphnet.logsumexp(_filled("logsumexp", input, mask), _dims(dim, input.dim()),
                             keepdim=keepdim)
    return out.to(dtype or input.dtype)


def norm(input: Tensor, ord=2.0, dim=None, *, keepdim: bool = False, dtype=None,
         mask=None) -> Tensor:
    """Vector norm of the kept elements (`linalg.vector_norm`'s `ord`)."""
    import graphnet

    return graphnet.linalg.vector_norm(_filled("norm", input, mask, ord), ord,
                                       _dims(dim, input.dim()), bool(keepdim),
                                       dtype=dtype or input.dtype)


def _normalization(op: str, fill: str):
    def apply(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
        from .nn import functional as F

        d = _dims(dim, input.dim())[0]
        return getattr(F, op)(_filled(fill, input, mask), d, dtype=dtype or input.dtype)

    apply.__name__ = apply.__qualname__ = op
    apply.__doc__ = f"`{op}` along `dim` over the kept elements (masked ones count as absent)."
    return apply


softmax = _normalization("softmax", "amax")
log_softmax = _normalization("log_softmax", "amax")
softmin = _normalization("softmin", "amin")


def normalize(input: Tensor, ord, dim: int, *, eps: float = 1e-12, dtype=None,
              mask=None) -> Tensor:
    """The kept elements divided by their `ord`-norm along `dim` (masked ones become 0)."""
    import graphnet

    scale = norm(input, ord, dim, keepdim=True, dtype=dtype or input.dtype, mask=mask)
    return _filled("sum", input, mask) / graphnet.maximum(scale, scale.new_full([], eps))


def cumsum(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """Running sum along `dim`, masked elements counting as 0."""
    import graphnet

    dtype = dtype or input.dtype
    return graphnet.cumsum(_filled("cumsum", input, mask), _dims(dim, input.dim())[0],
                           dtype=dtype).to(dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """Running product along `dim`, masked elements counting as 1."""
    import graphnet

    dtype = dtype or input.dtype
    return graphnet.cumprod(_filled("cumprod", input, mask), _dims(dim, input.dim())[0],
                            dtype=dtype).to(dtype)


def logaddexp(input: Tensor, other: Tensor, *, dtype=None, input_mask=None,
              other_mask=None) -> Tensor:
    """log(exp(input) + exp(other)), a masked element of either counting as -inf."""
    import graphnet

    out = graphnet.logaddexp(_filled("logaddexp", input, input_mask),
                             _filled("logaddexp", other, other_mask))
    return out.to(dtype or input.dtype)
