"""Reductions and scans as PyTorch spells them: cumprod, cummax/cummin, logcumsumexp,
nansum/nanmean, median/nanmedian, mode, quantile/nanquantile, count_nonzero, aminmax,
std_mean/var_mean, diff and renorm (functions and Tensor methods).

The selecting ones return PyTorch's named tuples (`values`, `indices` int64) and their
values are differentiable to the selected inputs; kernels in graphnet/_ops/reduce_extra.py.
The rest are compositions of existing ops.

>>> import graphnet as torch
>>> torch.tensor([[1.0, 5.0, 2.0]]).median(dim=1)
median(values=tensor([2.]), indices=tensor([2]))
"""

from __future__ import annotations


from ._overlap import inplace as _inplace
from . import _dtype as dt
from . import _factories
from . import _math as M
from ._dispatch import dispatch
from ._errors import wrap_dim
from ._grad_fn_names import stat_mean
from ._ops import quantile_range  # noqa: F401  (registration: checked_quantile_q)
from ._ops._promote import not_implemented
from ._tensor import Tensor
from .return_types import return_type

_RESULTS = {name: return_type(name, ["values", "indices"])
            for name in ("cummax", "cummin", "median", "nanmedian", "mode")}
_Aminmax = return_type("aminmax", ["min", "max"])


def _dim(input: Tensor, dim: int) -> int:
    """`dim` as a non-negative axis of `input` (a 0-d tensor has dims 0 and -1), or
    PyTorch's 'Dimension out of range' IndexError."""
    return wrap_dim(dim, input.dim())


def _nonempty(message: str, input: Tensor, dim: int) -> None:
    """PyTorch's IndexError for a selecting reduction (median, mode, aminmax) over an empty
    dim: `message` starts it ("median():"), the kernels had no value to give (median's was 0)."""
    dim = _dim(input, dim)
    if input.dim() and input.shape[dim] == 0:
        raise IndexError(f"{message} Expected reduction dim {dim} to have non-zero size.")


def _on_axis(op: str, input: Tensor, dim: int, **attrs):
    """Dispatch `op` along `dim`; a 0-d input runs as one element and comes back 0-d."""
    dim = _dim(input, dim)
    if input.dim() == 0:
        outs = dispatch(op, input.reshape(1), dim=0, **attrs)
        return tuple(o.reshape(()) for o in outs) if isinstance(outs, tuple) else \
            outs.reshape(())
    return dispatch(op, input, dim=dim, **attrs)


def _integer_as_int64(input: Tensor, dtype):
    """PyTorch sums and multiplies integers and bools as int64 unless told a dtype."""
    if dtype is None and not M._is_float(input):
        return dt.int64.np
    return dt.to_np(dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along `dim` (int and bool input: int64). Its gradient is exact where
    the input has zeros (no division by the input)."""
    return _on_axis("cumprod", input, dim, dtype=_integer_as_int64(input, dtype))


def cummax(input: Tensor, dim: int):
    """Running maximum along `dim` and where it was found: `(values, indices)`; a later equal
    value takes over the index, NaN propagates."""
    return _RESULTS["cummax"](*_on_axis("cummax", input, dim))


def cummin(input: Tensor, dim: int):
    """Running minimum along `dim` and where it was found: `(values, indices)`."""
    return _RESULTS["cummin"](*_on_axis("cummin", input, dim))


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along `dim`, computed stably."""
    return _on_axis("logcumsumexp", input, dim)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """`sum` treating NaN as zero."""
    return dispatch("nansum", input, dim=M._reduce_dims(dim), keepdim=keepdim,
                    dtype=_integer_as_int64(input, dtype))


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """`mean` of the elements that are not NaN."""
    if not M._is_float(input) and dtype is None:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {input.dtype}")
    return dispatch("nanmean", input, dim=M._reduce_dims(dim), keepdim=keepdim,
                    dtype=dt.to_np(dtype))


def _lowest(dtype) -> int:
    """What PyTorch's median of no integers gives: the type's lowest value."""
    import numpy as np

    return int(np.iinfo(dt.to_np(dtype)).min) if dtype.name != "bool" else 0


def _median(name: str, input: Tensor, dim, keepdim: bool):
    ignore_nan = name == "nanmedian"
    if input.dtype.name == "bool":
        raise not_implemented("median_cpu" if dim is None else "median_out", "bool")
    if dim is None:   # the lower median of all elements, a 0-d tensor
        if input.numel() == 0:
            if input.requires_grad:   # still in autograd (PyTorch's node; zero gradient)
                from ._grad_fn_names import renamed

                out = M.add(M.sum(input), float("nan"))
                return renamed(out, "MedianBackward0" if name == "median" else
                               "NanmedianBackward0", "add")
            return _factories.full((), float("nan") if input.is_floating_point()
                                   else _lowest(input.dtype), dtype=input.dtype)
        return dispatch("median", input, ignore_nan=ignore_nan)[0]
    _nonempty("median():", input, dim)   # nanmedian's error says median() too, as PyTorch's
    return _RESULTS[name](*_on_axis("median", input, dim, keepdim=bool(keepdim),
                                    ignore_nan=ignore_nan))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower of the two middle values (no averaging). Without `dim`, a 0-d tensor of all
    elements; with `dim`, `(values, indices)`. NaN anywhere in a row makes its median NaN."""
    return _median("median", input, dim, keepdim)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """`median` ignoring NaN (NaN only where a row is all NaN)."""
    return _median("nanmedian", input, dim, keepdim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along `dim` (the smallest among ties) and the index of its last
    occurrence: `(values, indices)`."""
    _nonempty("mode():", input, dim)
    return _RESULTS["mode"](*_on_axis("mode", input, dim, keepdim=bool(keepdim)))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name: str, input: Tensor, q, dim, keepdim: bool, interpolation: str):
    # NOTE: PyTorch's order of checks, and its messages, which say quantile() for nanquantile
    if not isinstance(q, Tensor) and not 0 <= q <= 1:
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {float(q):g}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if isinstance(q, Tensor) and q.dim() > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if input.dtype not in (dt.float32, dt.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.dtype != input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        scalar_q, q_values = q.dim() == 0, q.reshape(-1)
    else:
        scalar_q, q_values = True, M._factories.tensor([float(q)], dtype=input.dtype)
    # NOTE: a bad dim's IndexError comes first, then the values of q are read
    x, axis = (input.reshape(-1), 0) if dim is None else (input, _dim(input, dim))
    if isinstance(q, Tensor) and interpolation != "linear":
        q_values = q_values.detach()   # only linear interpolation is a function of q (PyTorch)
    if isinstance(q, Tensor) and q.numel():
        q_values = dispatch("checked_quantile_q", q_values)   # each in [0, 1], as PyTorch
    if x.dim() == 0:     # a 0-d input keeps no dim (it has none), as in PyTorch
        x, keepdim = x.reshape(1), False
    out = dispatch("quantile", x, q_values, dim=axis, keepdim=bool(keepdim and dim is not None),
                   interpolation=interpolation, ignore_nan=name == "nanquantile")
    if keepdim and dim is None:   # every dim kept, with size 1
        out = out.reshape((out.shape[0],) + (1,) * input.dim())
    return out[0] if scalar_q else out


def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The `q`-th quantiles (a float, or a 1-D tensor giving a leading quantile dim) of all
    elements or along `dim`. `interpolation`: linear, lower, higher, midpoint or nearest.
    NaN anywhere in a row makes its quantiles NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation)


def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """`quantile` ignoring NaN (NaN only where a row is all NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """How many elements are not zero (int64), over all elements or the dims in `dim`."""
    return M.sum(M.ne(input, 0), dim=dim)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """`(min, max)` in one call, over all elements or along `dim`."""
    if dim is None and input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if dim is not None:   # reducing a non-empty dim of an empty tensor gives empty results
        _nonempty("aminmax:", input, dim)
    return _Aminmax(M.amin(input, dim, keepdim), M.amax(input, dim, keepdim))


def _stat_mean(stat, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):   # std_mean(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    return (stat(input, dim, unbiased, keepdim, correction=correction),
            M.mean(input, dim, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None):
    """`(std, mean)` over the same dims (a plain tuple, as in PyTorch)."""
    return stat_mean(_stat_mean(M.std, input, dim, unbiased, keepdim, correction),
                     "StdMeanBackward0")


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None):
    """`(var, mean)` over the same dims."""
    return stat_mean(_stat_mean(M.var, input, dim, unbiased, keepdim, correction),
                     "VarMeanBackward0")


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The `n`-th forward difference along `dim`, after joining `prepend` and `append`
    (bool tensors: `!=` of neighbours)."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    dim = _dim(input, dim)
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = [p if isinstance(p, Tensor) else _factories.full(
        tuple(input.shape[:dim]) + (1,) + tuple(input.shape[dim + 1:]), p, dtype=input.dtype)
        for p in (prepend, input, append) if p is not None]
    for part in parts:   # PyTorch's words (cat's shape error named an op never called)
        if part.dim() != input.dim():
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
        for d, (got, want) in enumerate(zip(part.shape, input.shape)):
            if d != dim and got != want:
                raise RuntimeError(f"diff expects the shape of tensor to prepend or append to "
                                   f"match that of input except along the differencing "
                                   f"dimension; input.size({d}) = {want}, but got "
                                   f"tensor.size({d}) = {got}")
    x = M.cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        size = x.shape[dim]
        keep = max(size - 1, 0)     # a size-0 dim stays empty, as in PyTorch
        later, earlier = M.narrow(x, dim, min(1, size), keep), M.narrow(x, dim, 0, keep)
        x = M.ne(later, earlier) if x.dtype == dt.bool_ else M.sub(later, earlier)
        if size <= 1:
            break
    return x


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along `dim` whose `p`-norm exceeds `maxnorm` scaled down to norm `maxnorm`
    (PyTorch's `maxnorm / (norm + 1e-7)`)."""
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() < 2:   # PyTorch's check (a 0-d or 1-d input returned its own scaling)
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} "
                           f"dimensions")
    dim = _dim(input, dim)
    others = tuple(d for d in range(input.dim()) if d != dim)
    norms = M.norm(input, p, dim=others, keepdim=True)
    factor = M.where(M.gt(norms, maxnorm), M.div(maxnorm, M.add(norms, 1e-7)), 1.0)
    return M.mul(input, factor)


def cumsum_(self: Tensor, dim: int, *, dtype=None) -> Tensor:
    return self._assign(M.cumsum(self, dim, dtype=dtype))


_FUNCTIONS = {
    "cumprod": cumprod, "cummax": cummax, "cummin": cummin, "logcumsumexp": logcumsumexp,
    "nansum": nansum, "nanmean": nanmean, "median": median, "nanmedian": nanmedian,
    "mode": mode, "quantile": quantile, "nanquantile": nanquantile,
    "count_nonzero": count_nonzero, "aminmax": aminmax, "diff": diff, "renorm": renorm,
}
for _name, _fn in _FUNCTIONS.items():
    setattr(Tensor, _name, _fn)
for _name, _fn in [("cumprod_", _inplace(cumprod)), ("renorm_", _inplace(renorm)),
                   ("cumsum_", cumsum_)]:
    setattr(Tensor, _name, _fn)

__all__ = sorted(_FUNCTIONS) + ["std_mean", "var_mean"]
