"""PyTorch's argument rules for two of _layout.py's ops, checked before the op is built:
roll's shifts and dims (its kernel, jnp.roll, broadcasts a shift over several dims, or
several shifts over the flattened tensor, where PyTorch refuses both) and narrow's tensor
start (int() read a float or a one-element 1-d tensor)."""

from __future__ import annotations

from ._errors import no_dimensions_error
from ._tensor import Tensor


def _as_tuple(value) -> tuple | None:
    if value is None:
        return None
    return tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else (int(value),)


def roll_args(input, shifts, dims) -> tuple:
    """(shifts, dims) as tuples, dims None for a roll of the flattened tensor.

    `roll(x, (1, 2), (1,))` raises PyTorch's "shifts and dimensions must align" error; so does
    `roll(x, (1, 2))`, whose flattened roll takes one shift (dims counts as 0 there)."""
    shifts, dims = _as_tuple(shifts), _as_tuple(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims:   # NOTE: PyTorch reads dims=() as no dims: the flattened roll
        dims = None
    if input.dim() == 0 and dims is not None:
        raise no_dimensions_error(dims[0])
    if len(shifts) != (len(dims) if dims is not None else 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{0 if dims is None else len(dims)}")
    return shifts, dims


def narrow_start(start) -> int:
    """narrow's start as an int; a tensor start must be 0-d and integral (bool is not)."""
    if isinstance(start, Tensor) and (start.dim() != 0 or start.dtype.is_floating_point or
                                      start.dtype.is_complex or start.dtype.name == "bool"):
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    return int(start)


def _is_int(s) -> bool:
    """An integer size as PyTorch's argument parser takes one: int, NumPy integer, integer
    tensor of one element (`operator.index` works); a float or float tensor is not."""
    import operator

    try:
        operator.index(s)
    except TypeError:
        return False
    return True


def _type_name(s) -> str:
    kind = type(s)
    return kind.__name__ if kind.__module__ in ("builtins", ) or \
        kind.__module__.startswith("graphnet") else f"{kind.__module__}.{kind.__name__}"


def shape_ints(method: str, name: str, shape: tuple) -> tuple:
    """`reshape`/`view`'s sizes, given one by one or as one sequence, with PyTorch's
    TypeError for a size that is not an integer (`x.reshape(2., 6)`: int() would quietly
    accept 2.0, or drop the fraction of 2.5)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        sizes, at = tuple(shape[0]), "(position 1) "
    else:
        sizes, at = tuple(shape), None
    bad = next((i for i, s in enumerate(sizes) if not _is_int(s) or
                (i == 0 and isinstance(s, bool) and at is None)), None)
    if bad is None:
        return tuple(int(s) for s in sizes)
    what = _type_name(sizes[bad])
    if bad == 0 and method == "view":
        got = "tuple" if at else ", ".join(_type_name(s) for s in sizes)
        raise TypeError(f"view() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:\n * (torch.dtype dtype)\n"
                        f" * (tuple of ints size)\n")
    if bad == 0 and at is None and len(sizes) > 1:
        raise TypeError(f"{method}() takes 1 positional argument but {len(sizes)} were given")
    if bad == 0 and at is None:
        raise TypeError(f"{method}(): argument '{name}' (position 1) must be tuple of ints, "
                        f"not {what}")
    if bad == 0:
        raise TypeError(f"{method}(): argument '{name}' {at}must be tuple of ints, but found "
                        f"element of type {what} at pos 0")
    raise TypeError(f"{method}(): argument '{name}' failed to unpack the object at pos "
                    f"{bad + 1} with error \"type must be tuple of ints,but got {what}\"")


def keyword_sizes(method: str, sizes: tuple, name: str, given) -> tuple:
    """The sizes of `x.reshape(2, 3)` or of `x.reshape(shape=(2, 3))` (MAE's patchify)."""
    if given is None:
        return sizes
    if sizes:
        raise TypeError(f"{method}() got multiple values for argument '{name}'")
    return (given,)


def _dims(dim):
    return tuple(int(d) for d in dim) if isinstance(dim, (list, tuple)) else dim


def _shape_args(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)
