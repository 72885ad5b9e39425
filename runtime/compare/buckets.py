"""Bucket boundaries for variable-length inputs, proposed from the lengths seen.

Padding every batch up to the next bucket boundary lets a compiled step see only as many
shapes as there are buckets (one compile each) at the price of computing on padding. Given
the observed lengths and a number of buckets k, `propose_boundaries` picks the k boundaries
that minimise the total padding, exactly: an optimal boundary always sits on an observed
length (lowering it to the longest length it covers only removes padding) and the largest
length is always one, so a dynamic programme over the sorted distinct lengths finds it in
O(k * m^2) for m distinct lengths (a few hundred at most in practice).

    >>> propose_boundaries([3, 3, 5, 8], 2)
    [3, 8]
    >>> padding_waste([3, 3, 5, 8], [3, 8])   # 3 padded positions of 3 + 3 + 8 + 8
    0.13636363636363635
"""

from __future__ import annotations

import bisect
from collections import Counter


def propose_boundaries(lengths, k: int) -> list[int]:
    """The min(k, distinct lengths) boundaries, ascending and ending at the largest length,
    that minimise the total padding of `lengths`, each padded up to the smallest boundary >=
    it. With k at least the number of distinct lengths every distinct length is a boundary
    (no padding). Ties go to the earliest previous boundary, so the answer is deterministic."""
    values, counts = _distinct(lengths)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"propose_boundaries: k must be a positive number of buckets, got {k!r}")
    m = len(values)
    if k >= m:
        return list(values)
    # prefix sums turn the cost of one bucket into O(1): padding of lengths i..j up to values[j]
    n_before, sum_before = [0], [0]
    for v, c in zip(values, counts):
        n_before.append(n_before[-1] + c)
        sum_before.append(sum_before[-1] + c * v)

    def bucket_padding(i: int, j: int) -> int:
        return values[j] * (n_before[j + 1] - n_before[i]) - (sum_before[j + 1] - sum_before[i])

    # best[b][j]: least padding of the lengths up to values[j] in exactly b + 1 buckets, the
    # last ending at values[j]. Exactly k buckets are optimal when k < m: splitting a bucket
    # at a length inside it never adds padding.
    best = [[bucket_padding(0, j) for j in range(m)]]
    previous_end: list[list[int]] = [[-1] * m]
    for b in range(1, k):
        row, ends = [None] * m, [-1] * m
        for j in range(b, m):
            for i in range(b - 1, j):   # the previous bucket ends at values[i]
                cost = best[b - 1][i] + bucket_padding(i + 1, j)
                if row[j] is None or cost < row[j]:
                    row[j], ends[j] = cost, i
        best.append(row)
        previous_end.append(ends)
    boundaries, j = [], m - 1
    for b in range(k - 1, -1, -1):
        boundaries.append(values[j])
        j = previous_end[b][j]
    return boundaries[::-1]


def bucket_for(length: int, boundaries) -> int:
    """The smallest boundary >= `length`: the shape a batch of this length is padded to."""
    ordered = sorted(boundaries)
    at = bisect.bisect_left(ordered, length)
    if at == len(ordered):
        raise ValueError(f"bucket_for: length {length} is longer than the largest bucket "
                         f"boundary {ordered[-1] if ordered else None} of {ordered}; propose "
                         f"boundaries from lengths that include it, or add a boundary >= "
                         f"{length}")
    return ordered[at]


def total_padding(lengths, boundaries) -> int:
    """Padding positions added when every length is padded up to its bucket."""
    return sum(bucket_for(n, boundaries) - n for n in lengths)


def padding_waste(lengths, boundaries) -> float:
    """The fraction of padded positions that are padding: total padding / sum of the bucket
    sizes the lengths were padded to (0.0 when no length needed padding)."""
    _distinct(lengths)
    padded = sum(bucket_for(n, boundaries) for n in lengths)
    return total_padding(lengths, boundaries) / padded


def _distinct(lengths) -> tuple[list[int], list[int]]:
    """(sorted distinct lengths, how often each occurs); rejects what is not a length."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("bucket boundaries need at least one observed length, got none")
    bad = [n for n in lengths if isinstance(n, bool) or int(n) != n or n < 1]
    if bad:
        raise ValueError(f"lengths must be positive integers, got {bad[:5]}")
    counted = Counter(int(n) for n in lengths)
    values = sorted(counted)
    return values, [counted[v] for v in values]
