"""More reductions and scans (cumprod, logcumsumexp, median, nansum ...)."""

from __future__ import annotations
