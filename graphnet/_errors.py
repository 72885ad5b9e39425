"""Typed errors for common user mistakes. Each message names the culprit and the fix."""

from __future__ import annotations


class GraphnetError(Exception):
    """Base class of graphnet's own errors."""


class ShapeError(GraphnetError, ValueError, RuntimeError):
    """An input's shape does not fit the module or op it was given to. A RuntimeError too, as
    PyTorch's shape errors are: code written for PyTorch (`except RuntimeError`) catches it."""


class TraceError(GraphnetError, RuntimeError):
    """Something in the traced code cannot be captured in a static graph."""


def shape_error(message: str, *, where: str | None = None, module=None) -> ShapeError:
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
    return ShapeError(f"{where}: {message}" if where else message)
