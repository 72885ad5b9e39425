"""The write-through of a view a compiled call returns, moved from the tensor the trace saw
to this call's argument (runtime/artifact_outputs.py)."""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ._tensor import Tensor


def rebound(write: Callable, traced: Tensor, source: Tensor) -> Callable:
    """A view's write-through (`_view`) taken of `traced`, made to write into `source`: the
    view of a compiled call's argument that the call returns is a view of that call's
    argument, not of the tensor the trace saw.
    NOTE: every function the write-through closes over is rebound too. A view's `back`
    (the new values laid out as its source, `diagonal_scatter(input, new)`) names the source
    in its own closure; rebinding only the outer one wrote the first call's values into the
    rest of a later call's argument (`f(x).add_(1)` of a compiled `x.diagonal()`)."""
    if source is traced:   # the tracing call's own argument
        return write
    new = _rebind(write, traced, source)
    if new is write:
        raise AssertionError("a view's write-through does not name the tensor it was taken of")
    return new


def _rebind(fn, traced, source):
    """`fn` with `traced` replaced by `source` wherever its closures (and the closures of
    the functions they hold) name it; `fn` itself when none does. Every write-through is a
    plain closure (graphnet/_layout.py `_view_of`, graphnet/_indexing.py)."""
    if fn is traced:
        return source
    if not isinstance(fn, types.FunctionType) or not fn.__closure__:
        return fn
    contents = [_rebind(cell.cell_contents, traced, source) for cell in fn.__closure__]
    if all(new is cell.cell_contents for new, cell in zip(contents, fn.__closure__)):
        return fn
    closure = tuple(types.CellType(c) for c in contents)
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                              closure)
