"""histc of float16/bfloat16 data counts as integers (graphnet/_ops/histogram.py): counted in
the data's dtype, a bin stopped at 256 (bfloat16) or 2048 (float16), where PyTorch gives the
count. Eager and compiled, against PyTorch."""

import pytest
from parity import torch

import graphnet


@pytest.mark.parametrize("dtype,n", [("bfloat16", 300), ("float16", 3000), ("float32", 5000)])
@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_histc_counts_past_the_dtypes_integer_range(dtype, n, mode):
    want = torch.histc(torch.full((n,), 0.5).to(getattr(torch, dtype)), bins=2, min=0,
                       max=1)
    fn = lambda v: graphnet.histc(v, bins=2, min=0, max=1)   # noqa: E731
    if mode == "static":
        fn = graphnet.compile(fn)
    got = fn(graphnet.full((n,), 0.5).to(getattr(graphnet, dtype)))
    assert got.tolist() == want.tolist()
    assert str(got.dtype).split(".")[-1] == dtype
