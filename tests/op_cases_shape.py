"""Parity cases of the layout ops in graphnet/_ops/shape_extra.py (diagonals, unfold,
repeat_interleave, view(dtype), take, put). The functions composed from other ops (rot90, tile, hstack,
meshgrid ...) are compared in tests/test_shape_extra.py."""

from __future__ import annotations

import numpy as np
from op_case_kit import Case, fixed, ints, randn

CASES = {
    "diagonal": Case(lambda T, x: T.diagonal(x, 1, 2, 0) + x.diagonal(-1, 0, 2).sum(),
                     (randn(3, 2, 4),)),
    "diag_embed": Case(lambda T, x: T.diag_embed(x, -1, 0, 2), (randn(2, 3),)),
    "diagonal_scatter": Case(lambda T, x, s: T.diagonal_scatter(x, s, 1, 0, 2),
                             (randn(3, 2, 4), randn(2, 3))),
    "unfold": Case(lambda T, x: x.unfold(1, 3, 2), (randn(2, 7, 3),)),
    "repeat_interleave": Case(
        lambda T, x, r: T.repeat_interleave(x, r, dim=1, output_size=6) + x.repeat_interleave(2, 1)[:, :6],
        (randn(2, 3), fixed([1, 0, 5], np.int64))),
    "view_dtype": Case(
        lambda T, x: (x.view(T.int32) & 0x7fffffff).view(T.float32) * x
        + x.view(T.uint8).float().mean() + x.view(T.float16)[:, 1::2].float().abs().sum(),
        (randn(3, 4),)),
    "take": Case(lambda T, x, i: T.take(x, i), (randn(3, 4), ints(-12, 12, 2, 5))),
    "put": Case(lambda T, x, i, s: x.put(i, s, accumulate=True),
                (randn(3, 4), fixed([[0, -1, 0], [5, 7, 5]], np.int64), randn(2, 3))),
}
