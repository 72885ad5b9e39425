"""bincount of narrow integer codes (uint8, int8, int16) into more bins than the dtype holds:
packed SimHash codes counted with minlength=256. The range check compared the codes with the
bin count in the codes' own dtype, so uint8 against 256 wrapped (a compiled call raised "the
input holds 3" for values all below 256) and int8 against 128 overflowed inside JAX, eagerly
too. Codes are now widened to int64 before they are checked and counted."""

import numpy as np
import pytest
import torch

import graphnet as gn

X = np.random.RandomState(0).randn(50, 7).astype(np.float32)
P = np.random.RandomState(1).randn(7, 7).astype(np.float32)


def _histogram(lib, x, p, dtype, minlength, weighted):
    d = getattr(lib, dtype)
    bits = (x @ p > 0).to(d)
    codes = (bits << lib.arange(7, dtype=d)).sum(1, dtype=d)    # 7-bit codes, in dtype
    weights = x[:, 0].abs() if weighted else None
    return lib.bincount(codes, weights, minlength=minlength)


@pytest.mark.parametrize("weighted", [False, True], ids=["counts", "weights"])
@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("dtype,minlength", [("uint8", 256), ("uint8", 300), ("int8", 128),
                                             ("int8", 200), ("int16", 40000)])
def test_narrow_codes_count_into_many_bins(dtype, minlength, static, weighted):
    want = _histogram(torch, torch.tensor(X), torch.tensor(P), dtype, minlength,
                      weighted).numpy()

    def fn(x, p):
        return _histogram(gn, x, p, dtype, minlength, weighted)

    got = (gn.compile(fn) if static else fn)(gn.tensor(X), gn.tensor(P)).numpy()
    assert got.shape == want.shape == (minlength,)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_a_code_past_the_bins_still_raises_in_a_compiled_call():
    fn = gn.compile(lambda c: gn.bincount(c * 1, minlength=100))
    assert fn(gn.tensor([3, 99], dtype=gn.uint8)).tolist()[99] == 1
    with pytest.raises(RuntimeError, match="holds 200"):
        fn(gn.tensor([3, 200], dtype=gn.uint8))
