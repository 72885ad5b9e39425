"""JSON parsing for checkpoint headers, stricter than ``json.loads``.

Python's parser keeps the last of two equal keys and accepts ``NaN`` / ``Infinity``. In a
checkpoint header either one means the file was edited or damaged: with duplicate keys two
readers can see two different files (the reference safetensors reader refuses them), so we
refuse both instead of picking one reading silently.
"""

from __future__ import annotations

import json
from typing import Any


class StrictJSONError(ValueError):
    """The text is JSON that a checkpoint must not contain (the message says which part)."""


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJSONError(f"the key {key[:80]!r} appears twice in one JSON object")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not standard JSON")


def loads(text: str) -> Any:
    """Parse ``text``; raises ValueError (StrictJSONError or json's own) or RecursionError."""
    return json.loads(text, object_pairs_hook=_refuse_duplicate_keys,
                      parse_constant=_refuse_constant)
