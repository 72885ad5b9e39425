"""F.pad in constant mode refuses a crop past the other side as PyTorch does (it gave zeros
of a smaller shape); F.conv2d's bad padding string is PyTorch's RuntimeError (the module's
stays a ValueError)."""
import numpy as np
import pytest
import torch

import graphnet as G


def _error(fn):
    try:
        fn()
    except Exception as err:   # noqa: BLE001 - the type is what is compared
        return type(err), str(err)
    return None


@pytest.mark.parametrize("shape, pads", [((2, 6), (3, -7)), ((2, 6), (-7, 2)),
                                         ((2, 6), (2, -8)), ((2, 6), (-3, -4)),
                                         ((2, 3, 5, 6), (0, 0, -6, 1))])
@pytest.mark.parametrize("static", [False, True])
def test_constant_pad_crop_past_the_input(shape, pads, static):
    x = np.ones(shape, np.float32)
    want = _error(lambda: torch.nn.functional.pad(torch.tensor(x), pads))
    fn = (lambda t: G.nn.functional.pad(t, pads))
    got = _error(lambda: (G.compile(fn) if static else fn)(G.tensor(x)))
    assert got == want


@pytest.mark.parametrize("shape, pads", [((2, 6), (-3, -3)), ((2, 6), (-6, 0)),
                                         ((2, 6), (-2, 3))])
def test_constant_pad_crops_that_fit(shape, pads):
    x = np.arange(12, dtype=np.float32).reshape(shape)
    want = torch.nn.functional.pad(torch.tensor(x), pads).numpy()
    got = G.nn.functional.pad(G.tensor(x), pads).numpy()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_bad_padding_string():
    x, w = np.ones((1, 3, 5, 5), np.float32), np.ones((4, 3, 3, 3), np.float32)
    want = _error(lambda: torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w),
                                                     padding="bogus"))
    got = _error(lambda: G.nn.functional.conv2d(G.tensor(x), G.tensor(w), padding="bogus"))
    assert got == want
    with pytest.raises(ValueError, match="Invalid padding string 'bogus'"):
        G.nn.Conv2d(3, 4, 3, padding="bogus")
