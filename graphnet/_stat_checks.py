"""PyTorch's warning when `std`/`var` have no degrees of freedom left: the correction is at
least the number of values each result reduces (one value with Bessel's correction), and
the result is NaN or inf."""

from __future__ import annotations

import math
import warnings


def dof_warning(name: str, shape: tuple, dims, correction) -> None:
    """Warn as PyTorch does when `correction` >= the values per result of `name` over
    `dims` (None: all) of a tensor of `shape`."""
    reduced = range(len(shape)) if dims is None else \
        [d for d in (dims if isinstance(dims, (tuple, list)) else (dims,))]
    if any(not -len(shape) <= d < len(shape) for d in reduced if shape):
        return      # the op raises PyTorch's dimension error
    factor = math.prod(shape[d] for d in reduced) if shape else 1
    if factor - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      f"less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
