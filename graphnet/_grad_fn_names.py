"""PyTorch's grad_fn names where one graphnet op stands for several of PyTorch's functions.

An op table entry names the node its op records (`backward=`). Some graphnet ops cover
PyTorch functions whose backward nodes are named differently: `x.sum()` is SumBackward0 but
`x.sum(0)` SumBackward1 (another overload), `2 ** x` PowBackward2, `x.max(0)` MaxBackward0,
a 2-d max pool MaxPool2DWithIndicesBackward0, a matmul of two matrices MmBackward0 but of two
vectors DotBackward0. The functions here take the op's result and the call's arguments and
give its node PyTorch's name (`_autograd.rename_node`): only the name changes, never the
gradient, and a node some other op recorded keeps its own name. The layers' and losses'
names are in `_grad_fn_names_nn.py`.
"""

from __future__ import annotations

from ._autograd import backward_name, rename_node
from ._strides import is_contiguous
from ._tensor import Tensor


def renamed(out, torch_name: str | None, *made_by: str):
    """`out`, its node renamed `torch_name` if one of the ops `made_by` recorded it (None:
    unchanged)."""
    if torch_name is not None and isinstance(out, Tensor) and out.grad_fn is not None:
        for op in made_by:
            rename_node(out, torch_name, op)
    return out


def computed_wider(out, op: str):
    """`out`, a half-precision result of `op` computed in float32 and cast back: named as
    `op`'s node (x.half() * 2 is MulBackward0 in PyTorch, not ToCopyBackward0)."""
    return renamed(out, backward_name(op), "cast")


class _DimNotGiven:
    """The default `dim` of sum and mean. NOTE: PyTorch's `x.sum()` is the overload without
    a dim (SumBackward0) but `x.sum(dim=None)` the dim overload (SumBackward1), so the
    default must tell a dim left out from an explicit None; it prints as None."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "None"


DIM_NOT_GIVEN = _DimNotGiven()


def reduced(out, op: str, dim):
    """sum/mean: given `dim` (even an empty one or None) PyTorch calls the dim overload,
    whose node is `...Backward1`."""
    given = dim is not DIM_NOT_GIVEN
    return renamed(out, backward_name(op)[:-1] + "1" if given else None, op)


def power(out, input, exponent):
    """pow(Tensor, Scalar) is PowBackward0, pow(Tensor, Tensor) PowBackward1, pow(Scalar,
    Tensor) PowBackward2."""
    name = "PowBackward2" if not isinstance(input, Tensor) else \
        "PowBackward1" if isinstance(exponent, Tensor) else None
    return renamed(out, name, "pow", "cast")


def subtraction(out, input):
    """`1 - x` is PyTorch's rsub(x, 1): RsubBackward1."""
    return renamed(out, None if isinstance(input, Tensor) else "RsubBackward1", "sub", "cast")


def matmul(out, a, b):
    """The node of PyTorch's matmul, after the function it dispatches to: dot, mv, mm, or a
    fold of the batch into one mm (or bmm) whose result `_unsafe_view` reshapes.
    NOTE: PyTorch's matmul of a matrix (or some broadcast batches) by a batch that requires
    grad ends in a clone (CloneBackward0); those keep MmBackward0 here."""
    dims = (a.dim(), b.dim())
    names = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
             (2, 2): "MmBackward0"}
    name = names.get(dims)
    if name is None and (dims[0] == 1 or dims[1] <= 2 or
                         tuple(a.shape[:-2]) == tuple(b.shape[:-2])):
        name = "UnsafeViewBackward0"
    return renamed(out, name, "matmul")


def linear(out, input, bias):
    """F.linear: addmm (with a bias) or mm of a matrix input; a vector input is
    unsqueezed and squeezed back, a batch folded into one matrix and viewed back."""
    dim = input.dim()
    if dim == 2:
        name = "AddmmBackward0" if bias is not None else "MmBackward0"
    elif dim == 1:
        name = "ViewBackward0" if bias is not None else "SqueezeBackward4"
    else:
        name = "ViewBackward0" if bias is not None else "UnsafeViewBackward0"
    return renamed(out, name, "linear")


def pool(out, kind: str, nd: int):
    """A 1-d pool is PyTorch's 2-d pool of an unsqueezed input, squeezed back; 2-d and 3-d
    pools have a node per kind and dimension."""
    if nd == 1:
        name = "SqueezeBackward1"
    else:
        name = {"max": f"MaxPool{nd}DWithIndicesBackward0",
                "avg": f"AvgPool{nd}DBackward0"}[kind]
    made_by = ("max_pool", "max_pool_with_indices") if kind == "max" else ("avg_pool",)
    if isinstance(out, tuple):   # (values, indices): the values carry the gradient
        renamed(out[0], name, *made_by)
        return out
    return renamed(out, name, *made_by)


# F.pad's node per mode and number of padded dimensions (the circular pad is a copy of
# slices in PyTorch, not a node of its own, and keeps PadBackward0)
_PAD_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0"}


def padding(out, mode: str, padded_dims: int):
    if mode == "constant":
        return renamed(out, "ConstantPadNdBackward0", "pad")
    name = _PAD_NAMES.get(mode)
    return renamed(out, name and name.format(padded_dims), "pad")


def division(out, rounding_mode):
    """div with a rounding mode is PyTorch's div.Tensor_mode: DivBackward2, floor or trunc
    (graphnet rounds with floor_divide or trunc)."""
    if rounding_mode is None:
        return out
    return renamed(out, "DivBackward2", "floor_divide", "trunc_divide", "cast")


def einsum(out, equation: str, operands):
    """The node of PyTorch's einsum: its last step. One operand is permuted into the output's
    order and summed over the labels the output lacks (PermuteBackward0, SumBackward1); more
    operands are multiplied pairwise, and when any label is contracted the result is viewed
    without the summed dims (MulBackward0, ViewBackward0)."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    letters = "".join(term.replace("...", "") for term in terms)
    if arrow:
        kept = set(rhs.replace("...", ""))
        # dims under an ellipsis the output leaves out are summed too
        kept_ellipsis = "..." in rhs or not any(
            "..." in term and op.dim() > len(term.replace("...", ""))
            for term, op in zip(terms, operands))
    else:   # implicit output: the labels used once
        kept, kept_ellipsis = {c for c in letters if letters.count(c) == 1}, True
    contracted = bool(set(letters) - kept) or not kept_ellipsis
    if len(operands) == 1:
        name = "SumBackward1" if contracted else "PermuteBackward0"
    else:
        name = "ViewBackward0" if contracted else "MulBackward0"
    return renamed(out, name, "einsum")


def reshaped(out, shape, strides, view_strides) -> None:
    """Name `x.reshape(...)` of a strided view `x` (`strides`) as PyTorch: a view of a
    contiguous tensor (ViewBackward0, unchanged), `_reshape_alias` of another view
    (ReshapeAliasBackward0), or, when `view_strides` found none, a copy `_unsafe_view`ed
    (`x.t().reshape(-1)`: UnsafeViewBackward0).
    NOTE: graphnet's elementwise results are row-major, where PyTorch's may keep a view's
    strides: `(x.t() * 2).reshape(-1)` is ViewBackward0 here, UnsafeViewBackward0 there."""
    if view_strides is None:
        renamed(out, "UnsafeViewBackward0", "reshape")
    elif not is_contiguous(shape, strides):
        renamed(out, "ReshapeAliasBackward0", "reshape")


def filled(out, value):
    """`x.fill_(value)` of a tensor with a node: FillBackward2 (a number) or FillBackward3
    (a 0-d tensor); graphnet writes a `where` (or, from a value that needs grad, an
    expand)."""
    return renamed(out, "FillBackward3" if isinstance(value, Tensor) else "FillBackward2",
                   "where", "expand")


# In-place layout methods: PyTorch's nodes of the in-place overloads
_LAYOUT_IN_PLACE = {"t_": ("TBackward1", "transpose"),
                    "transpose_": ("TransposeBackward1", "transpose", "squeeze"),
                    "unsqueeze_": ("UnsqueezeBackward1", "unsqueeze")}


def layout_in_place(result, self, method: str, args, kwargs):
    """`result` of `self.t_()`, `self.squeeze_(dim)` ...: named after PyTorch's in-place
    node (TBackward1; squeeze_() SqueezeBackward3, squeeze_(dim) 4, squeeze_(dims) 5).
    NOTE: where graphnet returned `self` itself (`t_()` of a vector) no node was recorded,
    and PyTorch's TBackward1 is missing."""
    if result is self:
        return result
    if method == "squeeze_":
        dim = args[0] if args else kwargs.get("dim")
        name_and_ops = ("SqueezeBackward3" if dim is None else "SqueezeBackward5"
                        if isinstance(dim, (tuple, list)) else "SqueezeBackward4", "squeeze")
    else:
        name_and_ops = _LAYOUT_IN_PLACE.get(method, (None,))
    return renamed(result, *name_and_ops)


def stat_mean(pair: tuple, name: str) -> tuple:
    """std_mean and var_mean are one node in PyTorch (StdMeanBackward0), both outputs'."""
    stat, mean = pair
    return renamed(stat, name, "std", "var"), renamed(mean, name, "mean")
