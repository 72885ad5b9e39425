"""`x[index] = value` with a value of another dtype converts it as PyTorch does, before the
scatter: `mask[i, B + i] = 0` into a bool tensor (SimCLR's mask_correlated_samples), 2.7 into
an int32 tensor (truncated), eagerly and compiled. JAX warned on every such write ("will
result in an error" in a later release). Contrastive hunt."""

import warnings

import pytest
import torch

import graphnet


def _writes(L):
    m = L.ones((4, 4), dtype=L.bool)
    m[0, 2] = 0
    m[1, [0, 3]] = 0
    k = L.zeros(4, dtype=L.int32)
    k[1] = 2.7
    k[2:] = -1.9
    h = L.zeros(3, dtype=L.float16)
    h[0] = 0.1
    return m, k, h


@pytest.mark.parametrize("compiled", [False, True])
def test_scalar_writes_convert_to_the_tensor_s_dtype(compiled):
    want = [t.tolist() for t in _writes(torch)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        got = (graphnet.compile(lambda: _writes(graphnet)) if compiled else
               lambda: _writes(graphnet))()
    assert [t.tolist() for t in got] == want
