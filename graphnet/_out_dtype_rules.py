"""Which `out=` dtypes PyTorch accepts, per function, and its error for the others.

Two rules, found by calling each torch 2.13 function with `out` of every dtype:

- elementwise ops, most reductions (sum, mean, var), joins (cat, stack) and factories write
  any result dtype that can be cast to `out`'s (a float32 result into a float64 or float16
  `out`, not into an int64 one): `_out_argument._write` checks that rule;
- the others require `out` to have exactly the result's dtype, each with its own message:
  the ones below. A function returning (values, indices) checks both tensors; an int64
  `indices` is the only one accepted.

Names are the graphnet functions `_out_argument.install` wraps (`linalg.` for
graphnet.linalg's); `max`/`min` are checked only in their (values, indices) form: the
full reduction and the two-tensor form cast like elementwise ops."""

from __future__ import annotations

from ._ops._promote import cpp_name, torch_name


def _expected(res, out) -> str:
    return f"Expected out tensor to have dtype {cpp_name(res)}, but got {cpp_name(out)} instead"


def _found(res, out) -> str:
    return f"Found dtype {torch_name(out)} but expected {torch_name(res)}"


def _same_type(name: str):
    return lambda res, out: f"{name}(): self and result must have the same scalar type"


def _tensordot(res, out) -> str:
    return (f"tensordot: Expected the output tensor to have dtype {torch_name(res)}, but got "
            f"an output tensor with dtype {torch_name(out)}")


_RULES = {
    # unary ops that keep their input's dtype
    **dict.fromkeys(("abs", "absolute", "neg", "negative", "floor", "ceil", "round", "trunc",
                     "fix", "frac", "sign", "sgn", "clamp", "clip", "clamp_min", "clamp_max",
                     "bitwise_not"), _found),
    # matrix products, sorting, gathering, triangles, scatters, linear algebra
    **dict.fromkeys(("mm", "matmul", "bmm", "addmm", "addmv", "baddbmm", "mv", "sort", "msort",
                     "topk", "max", "min", "argmax", "argmin", "gather", "softmax",
                     "log_softmax", "norm", "tril", "triu", "diag", "cross", "scatter",
                     "scatter_add", "scatter_reduce", "index_add", "index_copy",
                     "index_reduce", "slice_scatter", "renorm", "take_along_dim",
                     "matrix_power", "inverse", "aminmax", "slogdet", "isin", "chain_matmul",
                     "linalg.inv", "linalg.det", "linalg.vector_norm", "linalg.matmul",
                     "linalg.solve", "linalg.cross", "linalg.matrix_power", "linalg.slogdet",
                     "diagonal_copy", "permute_copy", "transpose_copy", "t_copy",
                     "expand_copy", "view_copy", "squeeze_copy", "unsqueeze_copy",
                     "select_copy", "detach_copy", "alias_copy"), _expected),
    "where": lambda res, out: (f"Expected out type to be {torch_name(res)} but got "
                               f"{torch_name(out)}"),
    **dict.fromkeys(("dot", "vdot"), lambda res, out: (
        f"result dtype {torch_name(out)} does not match input dtype {torch_name(res)}")),
    **dict.fromkeys(("amax", "amin"), lambda res, out: (
        f"Expected the dtype for input and out to match, but got {torch_name(res)} for "
        f"input's dtype and {torch_name(out)} for out's dtype.")),
    "index_select": _same_type("index_select"),
    "masked_select": _same_type("masked_select"),
    "take": lambda res, out: (f"take(): self and out expected to have the same dtype, but got "
                              f"self.dtype = {torch_name(res)} and out.dtype = "
                              f"{torch_name(out)}"),
    "nonzero": lambda res, out: (f"nonzero: Expected out tensor to have scalar type Long but "
                                 f"got scalar type{torch_name(out)}"),
    **dict.fromkeys(("any", "all"), None),   # filled below: the message names the function
    **dict.fromkeys(("tensordot", "inner"), _tensordot),
    **dict.fromkeys(("cummax", "cummin", "logcumsumexp"), lambda res, out: (
        f"expected scalar_type {torch_name(res)} but found {torch_name(out)}")),
    "kthvalue": lambda res, out: "output values must be of same type as input",
    "quantile": lambda res, out: "quantile() out tensor must be same dtype as the input tensor",
    "nanquantile": lambda res, out: "quantile() out tensor must be same dtype as the input "
                                    "tensor",
    "nan_to_num": lambda res, out: (f"nan_to_num: dtype of out: {torch_name(out)} should be "
                                    f"same as input: {torch_name(res)}"),
    "heaviside": lambda res, out: ("heaviside is not yet implemented for tensors with "
                                   "different dtypes."),
    "float_power": lambda res, out: (f"the output given to float_power has dtype "
                                     f"{torch_name(out)} but the operation's result requires "
                                     f"dtype {torch_name(res)}"),
    "mode": lambda res, out: (f"expected scalar type '{torch_name(res)}' but got "
                              f"'{torch_name(out)}' for values output"),
    "signbit": lambda res, out: "signbit does not support non-boolean outputs.",
    **dict.fromkeys(("median", "nanmedian"), lambda res, out: (
        f"Expected tensor for 'values' to have the same type as tensor for argument #2 "
        f"'self'; but type torch.{torch_name(out)}Tensor does not equal "
        f"torch.{torch_name(res)}Tensor (while checking arguments for median)")),
    **dict.fromkeys(("searchsorted", "bucketize"), lambda res, out: (
        f"torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) or "
        f"Long(int64) depending on whether out_int32 flag is True, but we got output tensor's "
        f"dtype {torch_name(out)} and out_int32 flag is "
        f"{'True' if torch_name(res) == 'Int' else 'False'}")),
    **dict.fromkeys(("histc",), lambda res, out: (
        f"torch.histogram: input tensor and hist tensor should have the same dtype, but got "
        f"input {cpp_name(res)} and hist {cpp_name(out)}")),
    **dict.fromkeys(("linalg.norm", "linalg.matrix_norm"), None),   # named: filled below
}
_RULES.update({name: (lambda n: lambda res, out: (
    f"{n} only supports bool tensor for result, got: {torch_name(out)}"))(name)
    for name in ("any", "all")})
_RULES.update({name: (lambda n: lambda res, out: (
    f"{n} expected out tensor dtype {torch_name(res)} but got: {torch_name(out)}"))(name)
    for name in ("linalg.norm", "linalg.matrix_norm")})

# functions checked only when they return (values, indices)
_TUPLE_ONLY = frozenset({"max", "min"})

# functions that write into an `out` of any dtype (a float sum into an int64 `out`)
ANY_DTYPE = frozenset({"sum", "prod", "cumsum", "cumprod", "zeros", "ones", "full", "eye",
                       "linspace", "logspace", "arange", "range", "randperm"})

# functions whose cast check raises a TypeError naming cat
_JOINS = frozenset({"cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack",
                    "column_stack", "row_stack"})


def any_dtype_error(key: str, out_dtype) -> Exception | None:
    """The one refusal of the ANY_DTYPE functions: scans have no bool kernel."""
    if key in ("cumsum", "cumprod") and out_dtype.name == "bool":
        return NotImplementedError(f'"{key}_out_cpu" not implemented for \'Bool\'')
    return None


def cast_error(key: str, result_dtype, out_dtype) -> Exception:
    """PyTorch's error for a result that cannot be cast to `out`'s dtype."""
    if key in _JOINS:
        return TypeError(f"torch.cat(): input types can't be cast to the desired output type "
                         f"{torch_name(out_dtype)}")
    if key in _TUPLE_ONLY:
        return RuntimeError("Expected canCast( typeMetaToScalarType(self.dtype()), "
                            "typeMetaToScalarType(out.dtype())) to be true, but got false.")
    return RuntimeError(f"result type {torch_name(result_dtype)} can't be cast to the desired "
                        f"output type {torch_name(out_dtype)}")


def exact_dtype_error(key: str, result_dtype, out_dtype, position: int,
                      returns_tuple: bool) -> RuntimeError | None:
    """PyTorch's error for writing a `result_dtype` result into an `out_dtype` out tensor of
    function `key`, when the function requires equal dtypes; None when it accepts it (or
    casts, which `_write` checks). `position`: the result's place in a returned tuple."""
    rule = _RULES.get(key)
    if rule is None or result_dtype == out_dtype:
        return None
    if key in _TUPLE_ONLY and not returns_tuple:
        return None
    if position > 0 and key not in ("aminmax", "slogdet"):   # the indices of (values, indices)
        rule = _expected
    return RuntimeError(rule(result_dtype, out_dtype))
