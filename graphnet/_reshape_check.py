"""PyTorch's checks of a reshape's target shape with a -1 (graphnet/_layout.py `reshape`,
`view`): which size -1 stands for, and PyTorch's RuntimeError where none fits. JAX's own
inference divided by zero (a ZeroDivisionError) when the other sizes multiply to 0."""

from __future__ import annotations


def check_inferred_shape(shape: tuple, numel: int) -> None:
    """Raise PyTorch's RuntimeError unless `shape` (sizes, at most one -1) can hold `numel`
    elements; a -1 among sizes multiplying to 0 is ambiguous, as PyTorch says.

    >>> check_inferred_shape((0, -1), 0)
    RuntimeError: cannot reshape tensor of 0 elements into shape [0, -1] because ..."""
    inferred, known = None, 1
    for i, size in enumerate(shape):
        if size == -1:
            if inferred is not None:
                raise RuntimeError("only one dimension can be inferred")
            inferred = i
        elif size < 0:
            raise RuntimeError(f"invalid shape dimension {size} at index {i} of shape "
                               f"{list(shape)}")
        else:
            known *= size
    if numel == known or (inferred is not None and known > 0 and numel % known == 0):
        if inferred is not None and known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               f"because the unspecified dimension size -1 can be any value "
                               f"and is ambiguous")
        return
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
