"""Top-level tensor functions (`graphnet.add`, `graphnet.sum` ...). Tensor methods in
`_methods.py` are the same functions; each one ends in a single `dispatch` of an op.
Arithmetic, reductions and elementwise ops live here; the shape functions (`graphnet.cat`,
`graphnet.reshape` ...) live in `_layout.py` and are re-exported from here."""

from __future__ import annotations

import functools

from . import _dtype as dt
from ._default_dtype import default_float
from . import _einsum_check, _factories, _layout
from . import _grad_fn_names as names
from ._dispatch import dispatch
from ._einsum_sublists import sublist_equation
from ._math_minmax import minmax as _minmax
from ._numpy_numbers import python_number
from ._stat_checks import dof_warning
from ._errors import wrap_dim as _wrap_dim
from ._ops import OPS
from ._arith_checks import (check_alpha, check_broadcast, check_exponent_fits, check_fits,
                            check_where_number, refuse_bool_clamp, refuse_bool_subtraction,
                            zero_d_beside_number)
from ._math_no_derivative import without_derivative_forms
from ._binary_rules import (  # noqa: F401  (_methods.py calls M._binary)
    _binary, _is_float, _promote_scalar, _zero_dim_promotion)
from ._ops._promote import _TORCH_NAMES, cpp_name, not_implemented
from ._layout import *  # noqa: F401,F403  (the shape functions are top-level functions too)
from ._layout import _dims, _shape_args  # noqa: F401  (_methods.py calls M._shape_args)
from ._math_alpha import scalar_first, scaled
from ._tensor import Tensor
from ._autocast import autocast_as

def add(input, other, *rest, alpha=1):
    if rest:   # `p.add_(-lr, d)`: PyTorch's deprecated form
        (other,), alpha = scalar_first("add", (other, *rest), "alpha")
    check_alpha(input, other, alpha)
    return scaled("add", input, other, alpha)


def sub(input, other, *rest, alpha=1):
    if rest:
        (other,), alpha = scalar_first("sub", (other, *rest), "alpha")
    refuse_bool_subtraction(input, other)
    check_alpha(input, other, alpha)
    return names.subtraction(scaled("sub", input, other, alpha), input)


def div(input, other, *, rounding_mode=None):
    """`input / other`; `rounding_mode="trunc"` or `"floor"` rounds the quotient, and then
    integer inputs stay integer (true division of integers is float32), as in PyTorch."""
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    if rounding_mode == "floor":
        return names.division(_binary("floor_divide", input, other), rounding_mode)
    a_int = not isinstance(input, Tensor) or not _is_float(input)
    b_int = not isinstance(other, Tensor) or not _is_float(other)
    if a_int and b_int and not isinstance(input, float) and not isinstance(other, float):
        if rounding_mode == "trunc":   # the floor, moved up by one where it went below zero
            floor = _binary("floor_divide", input, other)
            inexact = _binary("ne", _binary("mul", floor, other), input)
            return where(_binary("logical_and", _binary("lt", floor, 0), inexact),
                         floor + 1, floor)
        input = input.to(default_float()) if isinstance(input, Tensor) else float(input)
    if rounding_mode == "trunc":
        return names.division(_binary("trunc_divide", input, other), rounding_mode)
    return _binary("div", input, other)


def pow(input, exponent):
    input, exponent = python_number(input), python_number(exponent)   # np.int64(-1) is -1
    if isinstance(input, Tensor) and isinstance(exponent, int) and exponent < 0 \
            and not isinstance(exponent, bool) and not _is_float(input):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    check_exponent_fits(input, exponent)
    if isinstance(input, Tensor) and input.dtype is dt.bool_ and isinstance(exponent, int):
        # PyTorch: a bool tensor to a bool power is bool, to an int power int64 (compiled it
        # was int32, eagerly int64; `b ** True` was int32 in both)
        if isinstance(exponent, bool):
            return _binary("pow", input.long(), int(exponent)).bool()
        input = input.long()
    if isinstance(exponent, Tensor) and exponent.dtype is dt.bool_ and (
            isinstance(input, bool) or isinstance(input, Tensor) and input.dtype is dt.bool_):
        # PyTorch picks pow's kernel by the result's dtype and has none for bool
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if isinstance(exponent, Tensor) and exponent.dtype is dt.bool_ and \
            isinstance(input, (int, float)):   # `2.5 ** mask`: the number's kind, as PyTorch
        exponent = exponent.to(default_float() if isinstance(input, float) else dt.int64)
    return names.power(_binary("pow", input, exponent), input, exponent)


def matmul(input, other):
    return names.matmul(dispatch("matmul", input, other), input, other)


def einsum(equation, *operands):
    """`einsum("ij,kj->ik", x, y)`; operands may also be given as one list, or in PyTorch's
    sublist form `einsum(x, [0, 1], y, [2, 1], [0, 2])` (ints below 52, `...`)."""
    if not isinstance(equation, str):
        equation, operands = sublist_equation((equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    _einsum_check.check_operands(equation, operands)
    return names.einsum(dispatch("einsum", *operands, equation=equation), equation, operands)


def where(condition, input=None, other=None):
    if input is None and other is None:     # torch.where(condition): nonzero(as_tuple=True)
        from ._select import nonzero

        return nonzero(condition, as_tuple=True)
    if isinstance(condition, Tensor) and condition.dtype is not dt.bool_ \
            and condition.dtype is not dt.uint8:   # PyTorch still takes a uint8 mask
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_TORCH_NAMES.get(condition.dtype.name)}")
    input, other = _promote_scalar(python_number(input), python_number(other))
    check_where_number(input, other)
    if isinstance(input, (bool, int, float)) and isinstance(other, (bool, int, float)):
        # two Python numbers: PyTorch's default dtypes (float32, int64), not JAX's float64
        from ._factories import tensor

        input, other = tensor(input), tensor(other)
    if isinstance(input, Tensor) and isinstance(other, Tensor) \
            and (input.dim() == 0) != (other.dim() == 0) and input.dtype != other.dtype:
        input, other = _zero_dim_promotion(input, other)   # f16 vs a 0-d float32: f16
    return dispatch("where", condition, input, other)


def masked_fill(input, mask, value):
    """`input` with `value` where `mask` is True; always `input`'s dtype, as in PyTorch (an
    integer tensor filled with 2.7 holds 2; graphnet promoted it to float)."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.dim()} dimension(s).")
    if isinstance(mask, Tensor) and mask.dtype.name != "bool":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{cpp_name(mask.dtype)}")
    check_fits(value, input.dtype.np)
    if isinstance(mask, Tensor):   # in masked_fill's words, not `where`'s
        check_broadcast(mask.shape, input.shape)
    out = names.renamed(where(mask, value, input), "MaskedFillBackward1" if isinstance(
        value, Tensor) else "MaskedFillBackward0", "where")
    return out if out.dtype == input.dtype else out.to(input.dtype)


def clamp(input, min=None, max=None):
    if min is None and max is None:   # before, the input came back unchanged
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    min, max = python_number(min), python_number(max)   # np.float32(1.5): a Python float
    min, max = zero_d_beside_number(min, max)
    refuse_bool_clamp(input, min, max)
    if isinstance(min, Tensor) or isinstance(max, Tensor):   # (a number beside: a 0-d tensor)
        # NOTE: where, not maximum/minimum, which share the gradient at a tie: PyTorch gives
        # it all to the input while low <= x <= high, bounds included (pointwise.clamp_between)
        out = input
        for bound, compare in ((min, "lt"), (max, "gt")):
            if bound is not None:
                out = where(_past(out, bound, compare), bound, out)
                if isinstance(bound, Tensor) and bound.is_floating_point():  # NaN: no gradient
                    out = where(_binary("ne", bound, bound), bound.detach(), out)
        if input.is_floating_point():   # a NaN input stays NaN, with no gradient
            out = where(_binary("ne", input, input), input.detach(), out)
        return names.renamed(out, "ClampBackward0", "where")   # PyTorch's clamp(Tensor, Tensor)
    if not _is_float(input) and (isinstance(min, float) or isinstance(max, float)):
        input = input.to(default_float())   # PyTorch: int clamped to 0.5 is the default float
    for bound in (min, max):
        check_fits(bound, input.dtype.np)
    return dispatch("clamp", input, min=min, max=max)


def _past(x, bound, compare: str):
    """Where `x` lies past `bound` (below it for "lt"), or a number bound is NaN (clamp gives
    NaN there, as PyTorch; a tensor's NaN is placed, gradient-free, by the caller)."""
    beyond = _binary(compare, x, bound)
    return beyond if isinstance(bound, Tensor) or bound == bound else \
        _binary("logical_or", beyond, True)


def _reduce_dims(dim):
    """A reduction's `dim`: an empty list or tuple reduces every dimension, as in PyTorch
    (`x.sum(())` is `x.sum()`; it returned x unchanged)."""
    if dim is names.DIM_NOT_GIVEN or isinstance(dim, (list, tuple)) and not dim:
        return None
    return _dims(dim)


def sum(input, dim=names.DIM_NOT_GIVEN, keepdim=False, *, dtype=None):
    if dtype is None and not _is_float(input):
        dtype = dt.int64.np  # PyTorch sums integers and bools as int64
    out = dispatch("sum", input, dim=_reduce_dims(dim), keepdim=keepdim, dtype=dt.to_np(dtype))
    return names.reduced(out, "sum", dim)


def mean(input, dim=names.DIM_NOT_GIVEN, keepdim=False, *, dtype=None):
    if not _is_float(input) and dtype is None:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype}")
    if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be "
                           f"either a floating point or complex dtype. Got: {dtype}")
    out = dispatch("mean", input, dim=_reduce_dims(dim), keepdim=keepdim, dtype=dt.to_np(dtype))
    return names.reduced(out, "mean", dim)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is None and not _is_float(input):
        dtype = dt.int64  # PyTorch multiplies integers and bools as int64, as in `sum`
    input = input if dtype is None else input.to(dt.from_np(dt.to_np(dtype)))
    return names.renamed(dispatch("prod", input, dim=_dims(dim), keepdim=keepdim),   # dim
                         None if dim is None else "ProdBackward1", "prod")       # overload


def max(input, dim=None, keepdim=False):
    """`max(x)` the largest value; `max(x, dim)` (values, indices); `max(x, y)` elementwise."""
    return _minmax("amax", "argmax", functools.partial(_binary, "maximum"), input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    return _minmax("amin", "argmin", functools.partial(_binary, "minimum"), input, dim, keepdim)


def amax(input, dim=None, keepdim=False):
    return dispatch("amax", input, dim=_reduce_dims(dim), keepdim=keepdim)


def amin(input, dim=None, keepdim=False):
    return dispatch("amin", input, dim=_reduce_dims(dim), keepdim=keepdim)


def argmax(input, dim=None, keepdim=False):
    return dispatch("argmax", input, dim=dim, keepdim=keepdim)


def argmin(input, dim=None, keepdim=False):
    return dispatch("argmin", input, dim=dim, keepdim=keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def _spread(op: str, input, dim, unbiased, keepdim, correction):
    if not _is_float(input):   # before, std of ints was a float64 number
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, bool):  # var(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    dims, correction = _reduce_dims(dim), _correction(unbiased, correction)
    dof_warning(op, tuple(input.shape), dims, correction)
    return dispatch(op, input, dim=dims, correction=correction, keepdim=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _spread("var", input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _spread("std", input, dim, unbiased, keepdim, correction)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    from ._linalg_norms import _floating

    # PyTorch's checks (a floating input, a `dtype` it widens to), then the cast to `dtype`
    # 'fro' over more than two dims is matrix_norm's, which refuses them, as in PyTorch
    named = isinstance(p, str) and (p != "fro" or isinstance(dim, (list, tuple)) and len(dim) > 2)
    input = _floating("linalg.matrix_norm" if named else "linalg.vector_norm", input, dtype)
    if named:   # 'nuc': PyTorch's matrix_norm
        from .linalg import _named_matrix_norm
        return _named_matrix_norm(input, p, dim, keepdim)
    p = 2.0 if p in ("fro", 2, None) else float(p)   # p=None: the 2-norm, as in PyTorch
    return dispatch("norm", input, p=p, dim=_reduce_dims(dim), keepdim=keepdim)


def logsumexp(input, dim, keepdim=False):
    if isinstance(dim, (list, tuple)) and not dim:
        dim = _every_dim_kept("logsumexp", input, keepdim)
    return dispatch("logsumexp", input, dim=_dims(dim), keepdim=keepdim)


def _every_dim_kept(name: str, input, keepdim: bool) -> None:
    """`dim=()` for `name`: every dim, as PyTorch reduces (graphnet returned x). NOTE:
    without keepdim PyTorch fails to write that result into its 0-d output, unless the
    input is 0-d or empty; graphnet raises there too rather than guess."""
    if not keepdim and input.dim() > 0 and input.numel() > 0:
        raise RuntimeError(f"{name}(dim=()) reduces every dimension but cannot drop them: "
                           f"output with shape [] doesn't match the broadcast shape "
                           f"{[1] * input.dim()}; pass keepdim=True, or "
                           f"dim=tuple(range(x.dim())) for a 0-d result")
    return None


# NOTE: with `dtype`, PyTorch casts the input first and computes in that dtype (a float16
# input gains float32 precision, an integer input becomes legal); the cast is on the tape,
# so the input's gradient comes back in its own dtype.
def softmax(input, dim, dtype=None):
    return dispatch("softmax", dt.cast_input("softmax", input, dtype), dim=dim)


def log_softmax(input, dim, dtype=None):
    return dispatch("log_softmax", dt.cast_input("log_softmax", input, dtype), dim=dim)


def cumsum(input, dim, *, dtype=None):
    if dtype is None and not _is_float(input):
        dtype = dt.int64.np  # PyTorch sums integers and bools as int64, as in `sum`
    if input.dim() == 0:    # a 0-d tensor is its own running sum (dim 0 or -1)
        _wrap_dim(dim, 1)
        return dispatch("clone", input) if dtype is None else \
            dispatch("cast", input, dtype=dt.to_np(dtype))
    return dispatch("cumsum", input, dim=dim, dtype=dt.to_np(dtype))


# NOTE: all/any of `dim=()` reduce no dim in PyTorch (each element's truth), unlike sum's
def all(input, dim=None, keepdim=False):
    return _truth_as(input, dispatch("all", input, dim=_dims(dim), keepdim=keepdim))


def any(input, dim=None, keepdim=False):
    return _truth_as(input, dispatch("any", input, dim=_dims(dim), keepdim=keepdim))


def _truth_as(input, out):
    """PyTorch's any/all of a uint8 tensor are uint8 (every other dtype gives bool)."""
    return out.to(dt.uint8) if input.dtype is dt.uint8 else out


def _bound(op):
    """graphnet's function for an op whose entry says `bind="unary"` or `"binary"`: a plain
    wrapper (binary ones with PyTorch's int + float promotion)."""
    name = op.name
    if op.bind == "unary":
        def fn(input):
            return dispatch(name, input)
        fn.__doc__ = f"Elementwise `{name}` (op `{name}` in the op table)."
    else:
        assert op.bind == "binary", op.bind

        def fn(input, other):
            return _binary(name, input, other)
        fn.__doc__ = f"Elementwise `{name}` with broadcasting (op `{name}` in the op table)."
    fn.__name__ = fn.__qualname__ = name
    return fn


@autocast_as("float32")   # PyTorch's CPU autocast list
def trace(input):
    """The sum of a 2-D tensor's main diagonal (`torch.trace`; integer input sums as int64).
    The graph tracer is `graphnet.trace_graph`."""
    if callable(input) and not isinstance(input, Tensor):
        raise TypeError("graphnet.trace(input) is the matrix trace, as torch.trace is; to "
                        "trace a function or module into a graph use "
                        "graphnet.trace_graph(fn, *example_inputs)")
    if not isinstance(input, Tensor) or input.dim() != 2:
        shape = list(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{input.dim() if isinstance(input, Tensor) else shape}")
    if input.dtype.name == "bool":
        raise not_implemented("trace", input.dtype)
    diagonal = input * _factories.eye(*input.shape, dtype=input.dtype)
    return names.renamed(sum(diagonal), "TraceBackward0", "sum")


# Hand-written functions above; the plain ones, and every alias (`negative`, `clip`, `mm`),
# come from the op table.
_BOUND = []
for _op in OPS.values():
    _own = [f for f in _op.functions if "." not in f]
    if _op.bind is not None:
        globals()[_own[0]] = _bound(_op)
    if _own and _own[0] in globals() and _own[0] not in _layout.__all__:
        for _alias in _own:
            globals()[_alias] = globals()[_own[0]]
        _BOUND += _own

# floor_divide, a number's remainder by a tensor and heaviside have no derivative in
# PyTorch: their results require grad and a backward through them raises
floor_divide, remainder, heaviside = without_derivative_forms(  # noqa: F405 (bound above)
    floor_divide, remainder, heaviside)  # noqa: F405


__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and callable(_v)
           and getattr(_v, "__module__", None) == __name__
           and _n not in ("namedtuple",)] + _layout.__all__
__all__ += [_n for _n in _BOUND if _n not in __all__]

