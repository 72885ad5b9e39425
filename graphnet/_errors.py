"""Typed errors for common user mistakes. Each message names the culprit and the fix."""


class GraphnetError(Exception):
    """Base class of graphnet's own errors."""


class ShapeError(GraphnetError, ValueError):
    """An input's shape does not fit the module or op it was given to."""


class TraceError(GraphnetError, RuntimeError):
    """Something in the traced code cannot be captured in a static graph."""
