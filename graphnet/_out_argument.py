"""PyTorch's `out=` argument: `torch.add(a, b, out=c)`, `torch.cat(xs, out=buf)`,
`torch.max(x, 1, out=(values, indices))`, `torch.linalg.norm(x, out=n)`.

graphnet's functions compute a new tensor; `install()` rebinds each public function whose
PyTorch counterpart takes `out=` (the names below, read from torch 2.13's signatures and
type stubs) to a
wrapper that, given `out`, writes the result into it in place, with PyTorch's rules: the
result must be castable to `out`'s dtype (a float result into an int64 `out` raises), an
`out` of another shape is resized (with PyTorch's warning when it held elements), an
argument requiring grad under grad mode raises (`out=` does not support autograd), and
`out` itself is returned (a tuple of them for `max`, `sort` ...). Without `out` the call is
the function's own, at the cost of one dict lookup. Before, every such call raised a
TypeError."""

from __future__ import annotations

import functools
import warnings

from . import _autocast, _overlap, _tensor

NAMES = {
    "graphnet": (
        "abs", "absolute", "acos", "acosh", "add", "addbmm", "addcdiv", "addcmul", "addmm",
        "addmv", "addr", "alias_copy", "all", "amax", "amin", "aminmax", "angle", "any",
        "arange", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
        "argmax", "argmin", "argsort", "as_strided_copy", "asin", "asinh", "atan", "atan2",
        "atanh", "baddbmm", "bartlett_window", "bernoulli", "bitwise_and",
        "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
        "bitwise_xor", "blackman_window", "bmm", "bucketize", "cat", "ceil", "chain_matmul",
        "cholesky", "cholesky_inverse", "cholesky_solve", "clamp", "clamp_max", "clamp_min",
        "clip", "column_stack", "complex", "concat", "concatenate", "conj_physical",
        "copysign", "cos", "cosh", "cross", "cummax", "cummin", "cumprod", "cumsum", "deg2rad",
        "detach_copy", "diag", "diagonal_copy", "diff", "digamma", "div", "divide", "dot",
        "dstack", "empty", "eq", "erf", "erfc", "erfinv", "exp", "exp2", "expand_copy",
        "expm1", "eye", "fix", "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod",
        "frac", "frexp", "frobenius_norm", "full", "gather", "gcd", "ge", "ger", "greater",
        "greater_equal", "gt", "hamming_window", "hann_window", "hardshrink", "heaviside",
        "histc", "histogram", "hstack", "hypot", "i0", "igamma", "igammac", "index_add",
        "index_copy", "index_reduce", "index_select", "inner", "inverse", "isin", "isneginf",
        "isposinf", "kaiser_window", "kron", "kthvalue", "lcm", "ldexp", "le", "lerp", "less",
        "less_equal", "lgamma", "linspace", "log", "log10", "log1p", "log2", "log_softmax",
        "logaddexp", "logaddexp2", "logcumsumexp", "logical_and", "logical_not", "logical_or",
        "logical_xor", "logit", "logspace", "logsumexp", "lstsq", "lt", "lu_solve",
        "lu_unpack", "masked_select", "matmul", "matrix_power", "matrix_rank", "max",
        "maximum", "mean", "median", "min", "minimum", "mm", "mode", "msort", "mul",
        "multinomial", "multiply", "mv", "mvlgamma", "nan_to_num", "nanmean", "nanmedian",
        "nanquantile", "nansum", "narrow_copy", "ne", "neg", "negative", "nextafter",
        "nonzero", "nonzero_static", "norm", "normal", "not_equal", "nuclear_norm", "ones",
        "outer", "permute_copy", "polar", "polygamma", "pow", "prod", "qr", "quantile",
        "rad2deg", "rand", "rand_like", "randint", "randint_like", "randn", "randn_like",
        "randperm", "range", "reciprocal", "remainder", "renorm", "round", "row_stack",
        "rsqrt", "scatter", "scatter_add", "scatter_reduce", "searchsorted", "select_copy",
        "sgn", "sigmoid", "sign", "signbit", "sin", "sinc", "sinh", "slice_copy",
        "slice_scatter", "slogdet", "softmax", "solve", "sort", "split_copy",
        "split_with_sizes_copy", "sqrt", "square", "squeeze_copy", "stack", "std", "std_mean",
        "sub", "subtract", "sum", "svd", "symeig", "t_copy", "take", "take_along_dim", "tan",
        "tanh", "tensordot", "threshold", "topk", "transpose_copy", "triangular_solve", "tril",
        "triu", "true_divide", "trunc", "unbind_copy", "unfold_copy", "unsqueeze_copy", "var",
        "var_mean", "vdot", "view_as_complex_copy", "view_as_real_copy", "view_copy", "vstack",
        "where", "xlogy", "zeros"),
    "graphnet.linalg": (
        "cholesky", "cholesky_ex", "cond", "cross", "det", "eig", "eigh", "eigvals",
        "eigvalsh", "householder_product", "inv", "inv_ex", "lu", "lu_factor", "lu_factor_ex",
        "lu_solve", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot",
        "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
        "svdvals", "tensorinv", "tensorsolve", "vecdot", "vector_norm"),
    "graphnet.special": (
        "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
        "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "logit", "logsumexp",
        "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc",
        "spherical_bessel_j0", "xlog1py", "xlogy"),
}


def _write(name: str, result, out, key: str = "", position: int = 0,
           returns_tuple: bool = False):
    """Write one result into `out` as PyTorch's out= variant does; return `out`. `key`: the
    function's name in _out_dtype_rules.py, for those that require `out`'s dtype exactly."""
    from ._dtype_methods import can_cast
    from ._out_dtype_rules import ANY_DTYPE, any_dtype_error, cast_error, exact_dtype_error
    from ._tensor import Tensor

    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        raise TypeError(f"{name}(): out= is not supported for a result of type "
                        f"{type(result).__name__}")
    if result.requires_grad:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                           f"automatic differentiation, but one of the arguments requires grad.")
    error = exact_dtype_error(key or name, result.dtype, out.dtype, position, returns_tuple)
    if error is not None:
        raise error
    if (key or name) in ANY_DTYPE:
        error = any_dtype_error(key or name, out.dtype)
    elif not can_cast(result.dtype, out.dtype):
        error = cast_error(key or name, result.dtype, out.dtype)
    if error is not None:
        raise error
    if tuple(out.shape) != tuple(result.shape):
        if out.numel():
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(result.shape)}. This behavior is deprecated, and in a future PyTorch "
                f"release outputs will not be resized unless they have zero elements. You can "
                f"explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                f"with t.resize_(0).", UserWarning, stacklevel=4)
        out.resize_(result.shape)
    return out.copy_(result)


# Reductions whose out= kernel computes in `out`'s dtype, as `dtype=out.dtype` would: the
# input is cast first (cumsum of [0.6, 0.7] into an int64 out is [0, 0], not [0, 1]; a float64
# out sums in float64; a float16 out rounds the input to float16, then sums in float32)
_OUT_IS_DTYPE = frozenset(("sum", "prod", "cumsum", "cumprod", "nansum"))
# The joins whose out= refuses any overlap with an input, the very input included
_JOINS = frozenset(("cat", "concat", "concatenate", "hstack", "vstack", "dstack",
                    "column_stack", "row_stack"))
# Those that refuse a `dtype=` other than `out`'s (before, the result was cast into `out`)
_DTYPE_MUST_MATCH = _OUT_IS_DTYPE | {"mean"}


def _dtype_mismatch(name: str, dtype, out_dtype) -> RuntimeError:
    from ._ops._promote import cpp_name, torch_name

    if name == "nansum":
        return RuntimeError(f"nansum: provided dtype must match dtype of result. Got "
                            f"{torch_name(out_dtype)} and {torch_name(dtype)}.")
    return RuntimeError(f"Expected out tensor to have dtype {cpp_name(dtype)}, but got "
                        f"{cpp_name(out_dtype)} instead")


# The out= kernels that PyTorch runs without checking the output against the inputs for a
# partial overlap (reductions, matrix products, softmax: they compute into a temporary);
# the others raise its "unsupported operation" error, as in-place ops do (_overlap.py)
_OUT_OVERLAP_UNCHECKED = frozenset((
    "sum", "mean", "amax", "amin", "prod", "logsumexp", "std", "var", "norm", "nansum",
    "nanmean", "mm", "matmul", "bmm", "mv", "dot", "vdot", "softmax", "log_softmax",
    "quantile", "nanquantile", "cummax", "cummin", "tensordot"))


def with_out(fn, name: str, key: str = ""):
    """`fn`, also taking PyTorch's `out=` (`key`: see `_write`)."""
    uncast = (key or name) in _autocast.OUT_NOT_CAST

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if name not in _OUT_OVERLAP_UNCHECKED:     # `add(a[:-1], a[1:], out=a[1:])`
            inputs = [v for a in args for v in (a if isinstance(a, (list, tuple)) else (a,))]
            for written in (out if isinstance(out, (tuple, list)) else (out,)):
                if isinstance(written, _tensor.Tensor):
                    _overlap.check_inputs(written, inputs, kwargs)
                    if name in _JOINS and any(isinstance(v, _tensor.Tensor) and
                                              _overlap.any_overlap(written, v) for v in inputs):
                        raise RuntimeError(_overlap.MESSAGE)   # `cat([a, b], out=a)` too
        dtype = getattr(out, "dtype", None)
        if name in _DTYPE_MUST_MATCH and kwargs.get("dtype") is not None \
                and dtype is not None and kwargs["dtype"] != dtype:
            raise _dtype_mismatch(name, kwargs["dtype"], dtype)
        if name in _OUT_IS_DTYPE and kwargs.get("dtype") is None and dtype is not None \
                and (name != "nansum" or dtype.is_floating_point):
            kwargs["dtype"] = dtype   # PyTorch computes in out's dtype (input cast first)
        # NOTE: PyTorch's out= kernels of autocast-listed ops are not autocast
        result = _autocast.uncast(fn, *args, **kwargs) if uncast else fn(*args, **kwargs)
        if isinstance(result, tuple):   # (values, indices): a tuple of out tensors
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{name}(): argument 'out' must be a tuple of "
                                f"{len(result)} Tensors")
            written = [_write(name, r, o, key, i, True)
                       for i, (r, o) in enumerate(zip(result, out))]
            return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
        return _write(name, result, out, key)

    call.__out_argument__ = True
    return call


def install() -> None:
    """Rebind the functions of NAMES that do not take `out` themselves. Idempotent."""
    import inspect
    import sys

    done: dict = {}   # one wrapper per function: aliases (`abs`, `absolute`) stay one object
    for module_name, names in NAMES.items():
        module = sys.modules[module_name]
        for name in names:
            fn = getattr(module, name, None)
            if fn is None or getattr(fn, "__out_argument__", False):
                continue
            try:
                if "out" in inspect.signature(fn).parameters:
                    continue
            except (TypeError, ValueError):
                continue
            if fn not in done:
                prefix = module_name.removeprefix("graphnet").lstrip(".")
                done[fn] = with_out(fn, name, f"{prefix}.{name}" if prefix else name)
            setattr(module, name, done[fn])
