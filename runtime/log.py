"""`GRAPHNET_LOG=recompiles,passes,graphs` turns on the matching log lines (stderr)."""

from __future__ import annotations

import logging
import os

CHANNELS = ("recompiles", "passes", "graphs")


def log_enabled(channel: str) -> bool:
    wanted = os.environ.get("GRAPHNET_LOG", "")
    enabled = {c.strip() for c in wanted.split(",") if c.strip()}
    if enabled and not logging.getLogger("graphnet").handlers:
        logging.getLogger("graphnet").addHandler(logging.StreamHandler())
    return channel in enabled or "all" in enabled
