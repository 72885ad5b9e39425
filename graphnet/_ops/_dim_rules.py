"""PyTorch's rule for a dimension of a 0-d tensor: it takes `dim=0` and `dim=-1`, as if it
had one dimension of size 1 (`torch.tensor(3.5).softmax(0)` is `tensor(1.)`). NumPy and JAX
refuse any axis of a 0-d array, so kernels whose `dim` names an axis of their first input
are wrapped by `scalar_as_one_element`: they run on the element as a 1-element vector and
the results come back 0-d (with `keepdim=True` too, as in PyTorch)."""

from __future__ import annotations

import functools

import jax


def _in_scalar_range(dim) -> bool:
    """Whether `dim` (an int, or a tuple or list of ints) only names dims 0 and -1."""
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return all(isinstance(d, int) and not isinstance(d, bool) and d in (0, -1) for d in dims)


def _zero(dim):
    """`dim` with every -1 as 0 (a 1-element vector's only axis)."""
    return tuple(0 for _ in dim) if isinstance(dim, (tuple, list)) else 0


def scalar_as_one_element(kernel, attr: str = "dim"):
    """`kernel` (keyword attribute `attr` naming axes of its first input) that also takes a
    0-d first input with `attr` 0 or -1, returning 0-d results. A dim out of PyTorch's
    [-1, 0] range still reaches the kernel, whose failure the dispatcher reports as
    PyTorch's 'Dimension out of range' IndexError (graphnet/_kernel_errors.py)."""

    @functools.wraps(kernel)
    def wrapped(x, *args, **attrs):
        dim = attrs.get(attr)
        if getattr(x, "ndim", None) != 0 or dim is None or not _in_scalar_range(dim):
            return kernel(x, *args, **attrs)
        out = kernel(x.reshape(1), *args, **{**attrs, attr: _zero(dim)})
        return jax.tree_util.tree_map(lambda o: o.reshape(()), out)

    return wrapped


# NOTE: max, min and argmax of no elements have no identity: NumPy's ValueError became a
# ShapeError; PyTorch raises these (an IndexError where a dim names an empty one). The
# shapes are static, so the check runs while JAX traces the kernel, eager or compiled.
def check_nonempty_reduction(name: str, x, dim, *, arg: bool = False) -> None:
    """PyTorch's error for reduction `name` (amax, amin, argmax, argmin) of `x` over `dim`
    (None: all of it) where that has no elements. `arg` (argmax, argmin): an IndexError
    also for dim None (amax's is a RuntimeError), and the dim named wrapped (amax names it
    as given)."""
    if dim is None:
        if x.size == 0:
            message = (f"{name}(): Expected reduction dim to be specified for input.numel() "
                       f"== 0.")
            if arg:
                raise IndexError(message)
            raise RuntimeError(message + " Specify the reduction dim with the 'dim' argument.")
        return
    for d in dim if isinstance(dim, (tuple, list)) else (dim,):
        if x.ndim and -x.ndim <= d < x.ndim and x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d % x.ndim if arg else d} "
                             f"to have non-zero size.")
