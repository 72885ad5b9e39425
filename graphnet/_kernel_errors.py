"""The error a kernel's failure becomes (graphnet/_dispatch.py `run_eager`, and the tracer when
it infers an op's output types): PyTorch's IndexError for a dimension out of range, the
kernel's own IndexError, or a ShapeError naming the op call with its shapes."""

from __future__ import annotations

import numpy as np

from ._errors import ShapeError, dimension_error
from ._errors import shape_error as _shape_error
from ._tensor import Tensor


# the attributes that name dimensions of an op's first tensor input
DIM_ATTRS = ("dim", "dims", "dim0", "dim1", "dim2", "axis")


def kernel_error(opdef, args, attrs, err: Exception) -> Exception:
    """What to raise when op `opdef`'s kernel refused its inputs with `err` (the kernel runs,
    or has its output types inferred, before anything is recorded): PyTorch's 'Dimension
    out of range' IndexError when a dimension attribute is out of range; the kernel's own
    IndexError for anything else it indexes; otherwise a ShapeError naming the call."""
    for name in DIM_ATTRS:   # `x.sum(1.0)`, `x.sum(dim="x")`: PyTorch's TypeError
        value = attrs.get(name)
        for dim in value if isinstance(value, (tuple, list)) else (value,):
            if dim is not None and not isinstance(dim, (int, np.integer)):
                return TypeError(f"{opdef.name}(): argument '{name}' must be int or tuple of "
                                 f"ints, not {type(dim).__name__}")
    wrong = out_of_range_dim(opdef, args, attrs)
    if wrong is not None:
        return dimension_error(*wrong)
    if isinstance(err, IndexError) and not isinstance(err, ValueError):
        return err
    return shape_error(opdef.name, args, attrs, err)


def out_of_range_dim(opdef, args, attrs) -> tuple | None:
    """(dim, rank) for the first dimension attribute of the call outside the dimensions of
    its first tensor input (its rank plus `opdef.new_dims`: unsqueeze's and stack's new
    one), else None. Asked only after the kernel failed, so a valid call never pays."""
    first = next((a for a in args if isinstance(a, Tensor)), None)
    if first is None:
        return None
    rank = first.ndim + opdef.new_dims
    top = max(rank, 1)
    for name in DIM_ATTRS:
        value = attrs.get(name)
        for dim in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(dim, int) and not isinstance(dim, bool) and not -top <= dim < top:
                return dim, rank
    return None


def shape_error(op: str, args, attrs, err) -> ShapeError:
    """A kernel refused its inputs (`err`): name the op call with its shapes and attributes."""
    shapes = ", ".join(str(list(a.shape)) if isinstance(a, Tensor) else repr(a) for a in args)
    detail = str(err).splitlines()[0] if str(err) else type(err).__name__
    return _shape_error(f"{op}({shapes}{', ' if attrs else ''}"
                               f"{', '.join(f'{k}={v}' for k, v in attrs.items())}) "
                               f"failed: {detail}")
