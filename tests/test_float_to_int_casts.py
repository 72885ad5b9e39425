"""Float -> integer casts give PyTorch's numbers for values out of the target's range, NaN and
infinities (PyTorch's CPU cast: truncate into int32, or int64, where out-of-range values give
its minimum, then keep the low bits; XLA saturates). `(x * 255).to(torch.uint8)` of an image
slightly over 1.0 is the everyday case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet as G

VALUES = [300.7, -1.5, 255.9, 256.0, -129.0, 257.5, 65535.5, 70000.0, -40000.0, 3e9, -3e9,
          1e10, 1e19, -1e19, float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 127.9]


@pytest.mark.parametrize("source", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("target", ["uint8", "int8", "int16", "int32", "int64", "bool"])
@pytest.mark.parametrize("compiled", [False, True])
def test_out_of_range_values_convert_as_in_torch(source, target, compiled):
    expected = torch.tensor(VALUES, dtype=getattr(torch, source)).to(getattr(torch, target))
    x = G.tensor(VALUES, dtype=getattr(G, source))
    convert = (lambda t: t.to(getattr(G, target)))
    got = G.compile(convert)(x) if compiled else convert(x)
    assert got.dtype == getattr(G, target)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_image_to_bytes():
    pixels = [0.0, 0.5, 1.0, 1.004, 1.01]
    t = (torch.tensor(pixels) * 255).to(torch.uint8)
    g = (G.tensor(pixels) * 255).to(G.uint8)
    assert g.tolist() == t.tolist()
