"""runtime/solo_bench.py: variants timed in separate, alternated processes."""

from __future__ import annotations

import pytest

from graphnet.runtime import solo_bench


def test_ratios_pair_each_repeat_with_its_neighbour():
    times = {"static": [2.0, 3.0, 1.0], "jax": [1.0, 2.0, 1.0]}
    # the pairs are 2/1, 3/2, 1/1: median 1.5, not median(static) / median(jax) = 1.33
    assert solo_bench.ratios(times, "jax") == {"static": pytest.approx(1.5)}


def test_a_child_process_per_variant_and_repeat():
    times = solo_bench.run("tiny", ["static", "jax"], repeats=1, rounds=2, steps=2)
    assert set(times) == {"static", "jax"}
    assert all(len(ts) == 1 and all(0 < t < 1 for t in ts) for ts in times.values())
