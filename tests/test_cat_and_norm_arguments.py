"""Two argument rules of PyTorch's: `cat` skips a legacy empty tensor (shape [0]) for the
shapes but not for the dtype (`cat([zeros(0), int_tensor])` is float32; graphnet gave int64),
and `norm(..., dtype=)` computes in that dtype (graphnet raised a TypeError)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

CASES = {
    "cat_float_empty_and_ints": lambda T: T.cat([T.zeros(0), T.tensor([1, 2])]),
    "cat_double_empty_and_floats": lambda T: T.cat([T.tensor([1.5]),
                                                    T.zeros(0, dtype=T.float64)]),
    "cat_only_empties": lambda T: T.cat([T.zeros(0), T.zeros(0, dtype=T.int64)]),
    "norm_half_in_float32": lambda T: T.norm(T.tensor([3.0, 4.0], dtype=T.float16), dim=0,
                                             dtype=T.float32),
    "tensor_norm_dtype": lambda T: T.tensor([[1.0, 2.0], [2.0, 1.0]]).norm(
        dim=1, dtype=T.float64),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, compiled):
    want = CASES[name](torch)
    run = graphnet.compile(lambda: CASES[name](graphnet)) if compiled else \
        (lambda: CASES[name](graphnet))
    got = run()
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(got.tolist()), want.numpy(), rtol=1e-6)
