"""Bucket-boundary arithmetic of `graphnet compare`'s shape axis: hand-worked cases, the
proposal against brute force, and the edges."""

import itertools
import random

import numpy as np
import pytest

from graphnet.runtime.compare.buckets import (bucket_for, padding_waste, propose_boundaries,
                                              total_padding)


def test_hand_worked_two_buckets():
    # [3, 8]: only the 5 pads (to 8), 3 positions of 3 + 3 + 8 + 8 = 22 computed.
    # [5, 8]: both 3s pad to 5, 4 positions of 5 + 5 + 5 + 8 = 23. So [3, 8] is optimal.
    lengths = [3, 3, 5, 8]
    assert total_padding(lengths, [3, 8]) == 3
    assert padding_waste(lengths, [3, 8]) == pytest.approx(3 / 22)
    assert total_padding(lengths, [5, 8]) == 4
    assert padding_waste(lengths, [5, 8]) == pytest.approx(4 / 23)
    assert propose_boundaries(lengths, 2) == [3, 8]


def test_hand_worked_one_bucket_is_the_longest():
    lengths = [3, 3, 5, 8]
    assert propose_boundaries(lengths, 1) == [8]
    assert total_padding(lengths, [8]) == 5 + 5 + 3
    assert padding_waste(lengths, [8]) == pytest.approx(13 / 32)


def test_hand_worked_two_clusters():
    # two clusters split where the gap is: each pads to its own largest length
    lengths = [1, 2, 3, 10, 11, 12]
    assert propose_boundaries(lengths, 2) == [3, 12]
    assert total_padding(lengths, [3, 12]) == (2 + 1) + (2 + 1)
    assert padding_waste(lengths, [3, 12]) == pytest.approx(6 / 45)


def test_enough_buckets_means_no_padding():
    lengths = [7, 3, 3, 9, 7, 4]
    for k in (4, 5, 50):
        boundaries = propose_boundaries(lengths, k)
        assert boundaries == [3, 4, 7, 9]
        assert padding_waste(lengths, boundaries) == 0.0


def test_ties_go_to_the_earliest_previous_boundary():
    # [1, 3] pads the 2 to 3, [2, 3] pads the 1 to 2: one position each
    assert total_padding([1, 2, 3], [1, 3]) == total_padding([1, 2, 3], [2, 3]) == 1
    assert propose_boundaries([1, 2, 3], 2) == [1, 3]


def test_one_length():
    assert propose_boundaries([5, 5, 5], 3) == [5]
    assert padding_waste([5, 5, 5], [5]) == 0.0


def brute_force_padding(lengths, k):
    """Least total padding over every choice of min(k, m) distinct lengths as boundaries."""
    values = sorted(set(lengths))
    n = min(k, len(values))
    return min(total_padding(lengths, chosen + (values[-1],))
               for chosen in itertools.combinations(values[:-1], n - 1))


def test_proposal_is_optimal_against_brute_force():
    rng = random.Random(0)
    for _ in range(200):
        lengths = [rng.randint(1, 30) for _ in range(rng.randint(1, 12))]
        k = rng.randint(1, 6)
        boundaries = propose_boundaries(lengths, k)
        assert boundaries == sorted(set(boundaries))
        assert boundaries[-1] == max(lengths)
        assert len(boundaries) == min(k, len(set(lengths)))
        assert set(boundaries) <= set(lengths)
        assert total_padding(lengths, boundaries) == brute_force_padding(lengths, k), \
            (lengths, k, boundaries)


def test_more_buckets_never_waste_more():
    rng = np.random.default_rng(1)
    lengths = [int(v) for v in rng.integers(1, 64, 50)]
    wastes = [padding_waste(lengths, propose_boundaries(lengths, k)) for k in range(1, 12)]
    assert all(a >= b for a, b in zip(wastes, wastes[1:]))


def test_numpy_lengths_are_accepted():
    lengths = np.array([3, 3, 5, 8])
    assert propose_boundaries(lengths, 2) == [3, 8]
    assert padding_waste(lengths, [np.int64(3), np.int64(8)]) == pytest.approx(3 / 22)


def test_bucket_for():
    assert [bucket_for(n, [8, 3]) for n in (1, 3, 4, 8)] == [3, 3, 8, 8]
    with pytest.raises(ValueError, match="length 9 is longer than the largest bucket"):
        bucket_for(9, [3, 8])


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_bucket_counts_are_refused(k):
    with pytest.raises(ValueError, match="k must be a positive number of buckets"):
        propose_boundaries([3, 5], k)


@pytest.mark.parametrize("lengths", [[], [0, 3], [-2], [2.5]])
def test_bad_lengths_are_refused(lengths):
    with pytest.raises(ValueError, match="length"):
        propose_boundaries(lengths, 2)
