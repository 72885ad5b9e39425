"""The gradients of amax/amin and max()/min() of all elements where the input holds NaN, as
PyTorch's (graphnet/_ops/extreme_grads.py): amax gives a slice whose result is NaN a NaN
gradient, max() of everything gives the NaN elements the shares. Before, a jitted backward
turned the NaN into 0, so a NaN input vanished from the gradient. Eager and compiled."""

import numpy as np
import pytest
from parity import torch

import graphnet

NAN = float("nan")
DATA = [[3., NAN, 2.], [1., 4., 4.]]
CALLS = {
    "max_all": lambda lib, x: x.max(),
    "min_all": lambda lib, x: x.min(),
    "max_all_two_nans": lambda lib, x: (x * lib.tensor([1., 1., NAN])).max(),
    "amax_dim": lambda lib, x: lib.amax(x, 1).sum(),
    "amin_dim": lambda lib, x: lib.amin(x, 1).sum(),
    "amax_all": lambda lib, x: lib.amax(x),
    "amax_keepdim": lambda lib, x: (lib.amax(x, 0, keepdim=True) * 2).sum(),
    "amax_ties_no_nan": lambda lib, x: lib.amax(lib.nan_to_num(x, 4.), 1).sum(),
    "max_all_ties_no_nan": lambda lib, x: lib.nan_to_num(x, 4.).max(),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_nan_gradients_of_extremes_match_pytorch(name, mode):
    call = CALLS[name]
    want_x = torch.tensor(DATA, requires_grad=True)
    want = call(torch, want_x)
    want.backward()

    x = graphnet.tensor(DATA, requires_grad=True)

    def run(x):
        out = call(graphnet, x)
        out.backward()
        return out

    got = (graphnet.compile(run) if mode == "static" else run)(x)
    np.testing.assert_array_equal(np.asarray(got.tolist()), np.asarray(want.tolist()))
    np.testing.assert_array_equal(x.grad.numpy(), want_x.grad.numpy())
