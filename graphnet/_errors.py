"""Typed errors for common user mistakes. Each message names the culprit and the fix."""

from __future__ import annotations

import operator


class GraphnetError(Exception):
    """Base class of graphnet's own errors."""


class ShapeError(GraphnetError, ValueError, RuntimeError):
    """An input's shape does not fit the module or op it was given to. A RuntimeError too, as
    PyTorch's shape errors are: code written for PyTorch (`except RuntimeError`) catches it."""


class AssertedShapeError(ShapeError, AssertionError):
    """A ShapeError where PyTorch's own check is an `assert` (MultiheadAttention's embedding
    dimension and key_padding_mask): code that catches AssertionError catches it too."""


class TraceError(GraphnetError, RuntimeError):
    """Something in the traced code cannot be captured in a static graph.

    NOTE: made while a trace runs, it tells the tracer (`note_refusal`), so code that catches
    it (`try: v = x.item() except RuntimeError: v = 0`) cannot go on with the other branch
    baked into the program: the trace fails at its end instead. graphnet's own code that
    catches one to take another path hands it back (`forgive_refusal`)."""

    def __init__(self, *args):
        super().__init__(*args)
        from ._mode import current_mode

        note = getattr(current_mode(), "note_refusal", None)
        if note is not None:
            note(self)


def forgive_refusal(error: TraceError) -> None:
    """graphnet's own code caught `error` and took another path: not a refusal the trace
    must end with."""
    from ._mode import current_mode

    forgive = getattr(current_mode(), "forgive_refusal", None)
    if forgive is not None:
        forgive(error)


class DtypeError(GraphnetError, TypeError, RuntimeError):
    """A tensor of the wrong dtype where an op needs integers (embedding indices, class
    labels): a TypeError, and a RuntimeError as PyTorch raises it."""


class DimensionError(ShapeError, IndexError):
    """A dimension argument outside the tensor's dimensions (`x.sum(2)` on a matrix): an
    IndexError with PyTorch's words, as PyTorch raises it, and a ShapeError."""


class UnsupportedShapeError(ShapeError, NotImplementedError):
    """An input whose rank the requested mode does not handle (`interpolate(mode="bilinear")`
    on a 3-D input): PyTorch raises NotImplementedError; a ShapeError too."""


class ArgumentError(GraphnetError, ValueError, AssertionError):
    """A constructor argument out of range where PyTorch asserts (`Embedding(padding_idx=)`):
    an AssertionError as PyTorch's, and a ValueError."""


def dimension_error(dim, rank: int) -> DimensionError:
    """PyTorch's 'Dimension out of range' for `dim` on a tensor of `rank` dimensions (a 0-d
    tensor takes -1 and 0), prefixed with the running module's path as ShapeErrors are."""
    top = max(rank, 1)
    error = shape_error(f"Dimension out of range (expected to be in range of [{-top}, "
                        f"{top - 1}], but got {dim})")
    return DimensionError(*error.args)


def no_dimensions_error(dim) -> DimensionError:
    """PyTorch's error for `size(dim)` of a 0-d tensor."""
    return DimensionError(f"Dimension specified as {dim} but tensor has no dimensions")


def wrap_dim(dim: int, rank: int) -> int:
    """`dim` as a non-negative axis of a tensor of `rank` dimensions (a 0-d tensor takes 0
    and -1), or PyTorch's 'Dimension out of range' (a DimensionError, an IndexError)."""
    top = max(rank, 1)
    if not -top <= dim < top:
        raise dimension_error(dim, rank)
    return dim % top


def shape_error(message: str, *, where: str | None = None, module=None,
                asserted: bool = False) -> ShapeError:
    """The one constructor of ShapeError: `message` prefixed with where the mistake happened.

    `where` defaults to the dotted path of the module whose forward is running ('features.0',
    '' at top level); with `module`, its class name follows ('features.0 (Conv2d)', or just
    'Conv2d' at top level). A given `where` is used as is; an empty one adds no prefix.

    >>> shape_error("expected input [N, 3, H, W], got [8, 1, 28, 28]", module=conv)
    ShapeError('features.0 (Conv2d): expected input [N, 3, H, W], got [8, 1, 28, 28]')
    """
    if where is None:
        # NOTE: imported here because _dispatch imports this module (it raises ShapeErrors too).
        from ._dispatch import module_path

        where = module_path()
        if module is not None:
            name = type(module).__name__
            where = f"{where} ({name})" if where else name
    text = f"{where}: {message}" if where else message
    if asserted:
        return AssertedShapeError(text)
    return ShapeError(text)


# PyTorch's error for `view.detach_()` (a view cannot leave its base's graph in place)
VIEW_DETACH = ("Can't detach views in-place. Use detach() instead. If you are using "
               "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
               "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
               "called on these gradients. To fix this error, please refer to the "
               "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")


def int_argument(value, fn: str, name: str, position: int | None = None) -> int:
    """`value` as an int, or PyTorch's TypeError for a float, bool or None: `topk(x, 2.7)`
    took 2 elements and `topk(x, True)` one where PyTorch raises."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    where = "" if position is None else f" (position {position})"
    raise TypeError(f"{fn}(): argument '{name}'{where} must be int, not {type(value).__name__}")


def broadcast_shape(*shapes) -> tuple:
    """The shape `shapes` broadcast to, or PyTorch's error naming the first pair of sizes that
    do not match (a ShapeError: a RuntimeError as PyTorch's, a ValueError as NumPy's)."""
    out: tuple = ()
    for shape in shapes:
        shape = tuple(shape)
        n = max(len(out), len(shape))
        a, b = (1,) * (n - len(out)) + out, (1,) * (n - len(shape)) + shape
        for i in reversed(range(n)):
            if a[i] != b[i] and 1 not in (a[i], b[i]):
                raise shape_error(f"The size of tensor a ({a[i]}) must match the size of "
                                  f"tensor b ({b[i]}) at non-singleton dimension {i}")
        out = tuple(y if x == 1 else x for x, y in zip(a, b, strict=True))
    return out


def missing_attribute(module: str, torch_module: str, name: str) -> AttributeError:
    """A module `__getattr__`'s error for a missing name: torch's AttributeError, with the
    reason and the alternative when the name is refused on purpose (runtime/coverage.py
    `REFUSED`: `graphnet.frombuffer`)."""
    why = None
    if not name.startswith("_"):
        from .runtime.coverage import refusal   # NOTE: coverage imports graphnet

        why = refusal(f"{torch_module}.{name}")
    return AttributeError(f"module {module!r} has no attribute {name!r}"
                          + (f" ({why[0]}; use {why[1]})" if why else ""))


def type_name(value) -> str:
    """A value's type as PyTorch's argument errors name it: `int`, `numpy.ndarray`."""
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
