"""The break-even arithmetic of `graphnet compare` (runtime/compare/breakeven.py), on cases
worked out by hand. Seconds are multiples of 1/4 so every sum is exact in binary floating
point and ties are real ties."""

import pytest

from graphnet.runtime.compare.breakeven import break_even, curve_steps, curves, total


def test_total_is_the_warm_up_calls_then_steady_steps():
    assert total([2.0, 1.0], 0.25, 1) == 2.0
    assert total([2.0, 1.0], 0.25, 2) == 3.0
    assert total([2.0, 1.0], 0.25, 6) == 3.0 + 4 * 0.25
    assert total([2.0], 0.5, 0) == 0.0


def test_crossing_after_compile_is_paid_back():
    # static 3 + 0.5(n-1), dynamic 1 + (n-1): equal at n = 5 (5 = 5), below from n = 6
    assert break_even([3.0], 0.5, [1.0], 1.0) == 6


def test_a_tie_is_not_a_crossing():
    # n = 5 is an exact tie (static 5.0, dynamic 5.0): static must be strictly cheaper
    assert total([3.0], 0.5, 5) == total([1.0], 1.0, 5) == 5.0
    assert break_even([3.0], 0.5, [1.0], 1.0) == 6
    # equal steps and equal first calls: a tie for ever, never a crossing
    assert break_even([1.0], 0.5, [1.0], 0.5) is None


def test_static_slower_per_step_never_breaks_even_even_when_it_starts_ahead():
    # static 1, 3, 5, 7 ... dynamic 3, 4, 5, 6 ...: ahead at n = 1, 2, a tie at 3, behind after
    assert break_even([1.0], 2.0, [3.0], 1.0) is None
    assert break_even([5.0], 2.0, [1.0], 1.0) is None


def test_static_first_call_already_cheaper_is_one():
    assert break_even([0.5], 0.25, [2.0], 0.5) == 1
    # equal steps: the lead of the first call stays for ever
    assert break_even([0.5], 0.5, [2.0], 0.5) == 1


def test_two_compiling_calls_count_both():
    # static builds two graphs (2 s each), dynamic warms up in 1 + 0.5 s: after the warm-up
    # static is 2.5 s behind and gains 0.25 s a step: a tie at n = 12 (6.5 s), ahead from 13
    static, dynamic = ([2.0, 2.0], 0.25), ([1.0, 0.5], 0.5)
    assert total(*static, 12) == total(*dynamic, 12) == 6.5
    assert break_even(*static, *dynamic) == 13
    # counting the first call alone would say 6 (a tie at 5: 2 + 0.25 * 4 = 1 + 0.5 * 4),
    # half the true number
    assert break_even([2.0], 0.25, [1.0], 0.5) == 6


def test_an_early_lead_lost_in_the_warm_up_does_not_count():
    # static 1, 4, 4.5, 5, 5.5, 6; dynamic 2, 2.5, 3.5, 4.5, 5.5, 6.5: ahead at n = 1, behind
    # from 2, a tie at 5, ahead for good from 6
    assert break_even([1.0, 3.0], 0.5, [2.0, 0.5], 1.0) == 6


def test_warm_ups_of_different_lengths():
    # static 2, 4, then 0.25 a step; dynamic 1, then 1 a step: 2/1, 4/2, 4.25/3, 4.5/4,
    # 4.75/5 -> ahead from n = 5
    assert break_even([2.0, 2.0], 0.25, [1.0], 1.0) == 5
    # ahead already at the end of the warm-up: the first n after the last time it was behind
    assert break_even([1.0, 0.25], 0.25, [0.5, 2.0], 1.0) == 2


def test_a_crossing_past_the_horizon_is_none():
    # 1000 s behind, gaining 1 s a step: ahead from n = 1002 (a tie at 1001)
    assert break_even([1001.0], 0.0, [1.0], 1.0) == 1002
    assert break_even([1001.0], 0.0, [1.0], 1.0, horizon=1001) is None
    assert break_even([1001.0], 0.0, [1.0], 1.0, horizon=1002) == 1002


def test_bad_seconds_are_refused_with_the_values():
    with pytest.raises(ValueError, match="static_warmup is empty"):
        break_even([], 0.1, [1.0], 0.2)
    with pytest.raises(ValueError, match=r"dynamic_step must hold .*\[-1\.0\]"):
        break_even([1.0], 0.1, [1.0], -1.0)
    with pytest.raises(ValueError, match="nan"):
        break_even([float("nan")], 0.1, [1.0], 0.2)


def test_curve_steps_cover_warm_up_and_both_sides_of_the_crossing():
    steps = curve_steps(13, warmup_calls=3, points=10)
    assert steps == sorted(set(steps)) and steps[0] == 1 and steps[-1] == 130
    assert {1, 2, 3, 12, 13} <= set(steps)
    assert curve_steps(None, 2, points=5, horizon=10000) == [1, 2, 10, 100, 1000, 10000]
    with pytest.raises(ValueError, match="at least 2"):
        curve_steps(None, 2, points=1)


def test_curves_are_the_totals_at_each_sampled_step():
    sampled = [1, 5, 6]
    assert curves([3.0], 0.5, [1.0], 1.0, sampled) == {
        "static_total_s": [3.0, 5.0, 5.5], "dynamic_total_s": [1.0, 5.0, 6.0]}
