"""Break-even arithmetic: after how many steps static's total time drops below dynamic's.

Pure functions on measured seconds, no timing here (runtime/compare/compile_cost.py measures).
A mode's time for its first `n` calls is the calls measured one by one from the first until
steady state (its warm-up: a training step often compiles twice, since the first step creates
the optimizer state), then its steady-state step for every call after those:

    total(n) = sum(warmup[:n]) + max(0, n - len(warmup)) * step

The break-even is the first `n` from which static's total stays strictly below dynamic's for
every later `n` too. With one warm-up call per mode this is the schema's "first call + (n-1)
steps" crossing. The rules at the edges:

- a tie is not a crossing: static must be strictly cheaper;
- static's first call already cheaper and its step no slower: 1;
- static's step slower than dynamic's: None (whatever it wins early, it loses again);
- equal steps: static's lead after the warm-up stays for ever, so it counts; no lead, None;
- a crossing past `horizon` steps: None (measurement noise decides that far out).

    >>> break_even([3.0], 0.5, [1.0], 1.0)    # 3 + 0.5(n-1) < 1 + (n-1) from n = 6
    6
"""

from __future__ import annotations

import math
from typing import Sequence

HORIZON = 10**6          # steps: a later crossing is reported as None


def total(warmup: Sequence[float], step: float, n: int) -> float:
    """Seconds for the first `n` calls: the measured warm-up calls, then steady steps."""
    return sum(warmup[:n]) + max(0, n - len(warmup)) * step


def break_even(static_warmup: Sequence[float], static_step: float,
               dynamic_warmup: Sequence[float], dynamic_step: float,
               horizon: int = HORIZON) -> int | None:
    """The first n from which static's total stays below dynamic's (rules: module docstring)."""
    for name, values in (("static_warmup", static_warmup), ("dynamic_warmup", dynamic_warmup)):
        _check_seconds(name, values, allow_empty=False)
    _check_seconds("static_step", [static_step])
    _check_seconds("dynamic_step", [dynamic_step])
    k = max(len(static_warmup), len(dynamic_warmup))

    def lead(n):   # how much cheaper static is after n calls (> 0: static ahead)
        return total(dynamic_warmup, dynamic_step, n) - total(static_warmup, static_step, n)

    gain = dynamic_step - static_step        # what static gains per step after the warm-up
    if gain < 0 or (gain == 0 and lead(k) <= 0):
        return None
    if lead(k) > 0:   # ahead once both warm-ups are over, and never falls back after
        behind = [n for n in range(1, k + 1) if lead(n) <= 0]
        return behind[-1] + 1 if behind else 1
    # behind at k, catching up by `gain` a step: lead(k + m) = lead(k) + m * gain > 0
    m = math.floor(-lead(k) / gain) + 1
    if k + m > horizon:
        return None
    n = k + m
    # NOTE: the division rounds; settle the last step on the totals themselves, which is
    # what a reader adding the numbers up would check.
    while n - 1 > k and lead(n - 1) > 0:
        n -= 1
    while lead(n) <= 0:
        n += 1
    return n if n <= horizon else None


def curve_steps(steps: int | None, warmup_calls: int, points: int = 40,
                horizon: int = 1000) -> list[int]:
    """The n at which to sample the cumulative totals for a plot on a log axis: every warm-up
    call, `points` log-spaced n up to ten times the break-even (`horizon` without one), and
    the break-even itself with the step before it, so the plotted lines cross where it says."""
    if points < 2:
        raise ValueError(f"curve_steps: points must be at least 2, got {points}")
    end = max(10 * steps, 10) if steps is not None else horizon
    chosen = set(range(1, warmup_calls + 1))
    chosen.update(round(end ** (i / (points - 1))) for i in range(points))
    if steps is not None:
        chosen.update({max(steps - 1, 1), steps})
    return sorted(chosen)


def curves(static_warmup: Sequence[float], static_step: float,
           dynamic_warmup: Sequence[float], dynamic_step: float, steps: list[int]) -> dict:
    """`{"static_total_s": [...], "dynamic_total_s": [...]}` at each n of `steps`."""
    return {"static_total_s": [total(static_warmup, static_step, n) for n in steps],
            "dynamic_total_s": [total(dynamic_warmup, dynamic_step, n) for n in steps]}


def _check_seconds(name: str, values: Sequence[float], allow_empty: bool = True) -> None:
    if not values and not allow_empty:
        raise ValueError(f"break_even: {name} is empty; pass at least the first call's seconds")
    bad = [v for v in values if not (isinstance(v, (int, float)) and math.isfinite(v)
                                      and v >= 0)]
    if bad:
        raise ValueError(f"break_even: {name} must hold finite non-negative seconds, got "
                         f"{list(values)}")
