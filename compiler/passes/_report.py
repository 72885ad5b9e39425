"""Passes say what they did in one line: `report("3 nodes merged")` inside a pass; the
pipeline collects the line and prints it as `common_subexpression_elimination: 3 nodes merged`."""

from __future__ import annotations

_lines: list = []


def report(message: str) -> None:
    """Record the calling pass's one-line stat (the last call of a pass wins)."""
    _lines.append(message)


def take() -> str | None:
    """The last line reported since the previous take(), or None."""
    line = _lines[-1] if _lines else None
    _lines.clear()
    return line
