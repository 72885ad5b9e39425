"""`max(x, dim)` and `min(x, dim)`: the (values, indices) pair, PyTorch's
torch.return_types.max / min, behind graphnet.max and graphnet.min (_math.py)."""

from __future__ import annotations

from . import _autograd
from . import _dtype as dt
from . import _grad_fn_names as names
from ._dispatch import dispatch
from ._tensor import Tensor
from .return_types import return_type

# PyTorch's torch.return_types.max / min: the same fields, printed by name
_MinMax = {"amax": return_type("max", ["values", "indices"]),
           "amin": return_type("min", ["values", "indices"])}


def minmax(reduce_op: str, arg_op: str, pair_fn, input, dim, keepdim):
    """`reduce_op` ("amax"/"amin") of `input`: over everything when `dim` is None, the
    (values, indices) pair along `dim`, or `pair_fn(input, dim)` when `dim` is a tensor."""
    if isinstance(dim, Tensor):
        return pair_fn(input, dim)
    if isinstance(input, Tensor) and input.numel() == 0:
        _refuse_empty(reduce_op[1:], input, dim)
    if dim is None:   # PyTorch's max() of all elements: MaxBackward1, not amax's node
        return names.renamed(dispatch(reduce_op, input, share_nan=True),
                             reduce_op[1:].title() + "Backward1", reduce_op)
    if input.requires_grad and _autograd.grad_mode.enabled and input.dim() > 0:
        # PyTorch's gradient of max(x, dim) goes to the element its index names (the first
        # of tied maxima), not shared between the ties as amax's is: take the values there
        indices = dispatch(arg_op, input, dim=dim, keepdim=True)
        values = dispatch("gather", input, indices, dim=dim)
        if not keepdim:
            values, indices = (dispatch("squeeze", t, dim=dim) for t in (values, indices))
        values = names.renamed(values, reduce_op[1:].title() + "Backward0", "squeeze", "gather")
        return _MinMax[reduce_op](values, indices)
    values = dispatch(reduce_op, input, dim=dim, keepdim=keepdim)
    # NOTE: PyTorch's max(dim) takes bool input though its argmax refuses it: the indices
    # of a bool tensor are those of its 0/1 values
    ranked = input.to(dt.uint8) if input.dtype is dt.bool_ else input
    return _MinMax[reduce_op](values, dispatch(arg_op, ranked, dim=dim, keepdim=keepdim))


def _refuse_empty(name: str, input: Tensor, dim) -> None:
    """PyTorch's error for max / min over no elements, in its own name (amax's, which this
    dispatches, names amax and the dim as given)."""
    if dim is None:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                           f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                           f"argument.")
    n = input.dim()
    if isinstance(dim, int) and n and -n <= dim < n and input.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim % n} to have non-zero size.")
