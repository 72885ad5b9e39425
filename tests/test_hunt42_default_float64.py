"""After `set_default_dtype(float64)`, what PyTorch makes in the default dtype is float64 here
too: optimizers' 0-d state (NAdam's mu_product and ASGD's eta/mu were float32, so float64
parameters drifted from PyTorch's by 1e-9 in 6 steps) and the window functions."""
import warnings

import numpy as np
import pytest
import torch

import graphnet as G

NAMES = ["Adam", "AdamW", "NAdam", "RAdam", "Adamax", "ASGD", "Adagrad", "Adadelta", "RMSprop",
         "Rprop"]


@pytest.fixture
def default_float64():
    torch.set_default_dtype(torch.float64)
    G.set_default_dtype(G.float64)
    yield
    torch.set_default_dtype(torch.float32)
    G.set_default_dtype(G.float32)


def _train(lib, name, compiled):
    p = lib.nn.Parameter(lib.tensor([0.3, -1.2, 2.5]))
    opt = getattr(lib.optim, name)([p], lr=0.1)

    def step():
        opt.zero_grad()
        (p.sin() * p).sum().backward()
        opt.step()

    step = G.compile(step) if compiled else step
    for _ in range(6):
        step()
    scalars = {k: str(v.dtype).split(".")[-1] for k, v in opt.state[p].items() if v.dim() == 0}
    return np.array(p.tolist()), scalars


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_optimizer_scalar_state_is_float64(default_float64, name, compiled):
    want, want_dtypes = _train(torch, name, False)
    got, got_dtypes = _train(G, name, compiled)
    assert got_dtypes == want_dtypes and set(want_dtypes.values()) == {"float64"}
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
def test_windows_take_the_default_dtype(default_float64, name):
    want = getattr(torch, name)(8)
    got = getattr(G, name)(8)
    assert got.dtype == G.float64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15, atol=1e-16)


def test_flush_denormal_says_what_xla_does():
    assert G.set_flush_denormal(True) is True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert G.set_flush_denormal(False) is False
    assert "subnormal" in str(caught[0].message)
