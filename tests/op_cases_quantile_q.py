"""The check op behind quantile's tensor `q` (graphnet/_ops/quantile_range.py): the identity,
with PyTorch's error for a value outside [0, 1]; compared in tests/test_selection_argument_
checks.py, where eager and compiled calls raise it."""

from __future__ import annotations

CASES: dict = {}

ELSEWHERE = {
    "checked_quantile_q": ("quantile's q in [0, 1]", "tests/test_selection_argument_checks.py",
                           "test_compiled_quantile_checks_q_given_and_computed"),
}
