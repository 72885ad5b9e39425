"""Parity cases of the selection family (graphnet/_ops/select.py): ops whose result size
depends on the values run eagerly and are refused, with a TraceError, when compiled
(`static=False`); their static-shape neighbours run both ways. More in tests/test_select.py."""

from __future__ import annotations

import numpy as np
from op_case_kit import Case, bools, fixed, ints, randn

_SPARSE = fixed([[0.0, 1.5, 0.0, -2.0], [0.0, 0.0, 3.0, 0.0], [4.0, 0.0, 0.0, 0.0]])

CASES = {
    "nonzero": Case(lambda T, x: T.nonzero_static(x, size=6) + x.nonzero_static(size=6),
                    (_SPARSE,)),
    "masked_select": Case(lambda T, x, m: T.masked_select(x, m) * 2 + x.masked_select(m),
                          (randn(3, 4), bools(4)), static=False),
    "masked_scatter": Case(lambda T, x, m, s: x.masked_scatter(m, s),
                           (randn(3, 4), bools(3, 4), randn(13))),
    "unique": Case(lambda T, x: T.unique(x, return_inverse=True, return_counts=True),
                   (ints(0, 5, 3, 4),), static=False),
    "unique_consecutive": Case(
        lambda T, x: T.unique_consecutive(x, return_inverse=True, return_counts=True, dim=0),
        (fixed([[1, 2], [1, 2], [0, 1], [1, 2]], np.int64),), static=False),
    "bincount": Case(lambda T, x, w: (T.bincount(x, minlength=3), x.bincount(w)),
                     (ints(0, 6, 10), randn(10)), static=False),
    "histc": Case(lambda T, x: T.histc(x, bins=5, min=-1, max=1) + x.histc(5), (randn(20),)),
    "histogram": Case(lambda T, x, w: tuple(T.histogram(x, 6, weight=w, density=True)),
                      (randn(20), fixed(np.linspace(0.1, 2, 20)))),
    "isin": Case(lambda T, x, y: T.isin(x, y) | T.isin(x, y, invert=True).logical_not(),
                 (ints(0, 6, 3, 4), ints(0, 6, 5))),
}

ELSEWHERE = {
    "poisson": ("random", "tests/test_devices_and_sampling.py", "test_sampling_distributions"),
}
