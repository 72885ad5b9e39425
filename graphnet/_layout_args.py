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
