"""Activation and init arguments as PyTorch takes them: PReLU's `device=`/`dtype=`, its `init`
attribute and `reset_parameters()`; rrelu refuses swapped bounds (it computed with them),
hardshrink takes a negative lambd (it raised), celu's alpha=0 is a RuntimeError; nn.init's
private helpers user code imports exist, and trunc_normal_ with a negative std draws as with
its absolute value (every value was `b`)."""

import numpy as np
import pytest
import torch

import graphnet


def test_prelu_arguments_and_reset():
    for T in (torch, graphnet):
        p = T.nn.PReLU(3, 0.1, device="cpu", dtype=T.float64)
        assert p.weight.dtype == T.float64 and p.init == 0.1
        with T.no_grad():
            p.weight.fill_(2.0)
        p.reset_parameters()
        assert p.weight.tolist() == pytest.approx([0.1] * 3)
        assert repr(p) == "PReLU(num_parameters=3)"


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_swapped_bounds_refused(training):
    for T in (torch, graphnet):
        with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
            T.nn.functional.rrelu(T.tensor([-1.0, 2.0]), 0.3, 0.1, training=training)


@pytest.mark.parametrize("lambd", [-0.5, -0.05, 0.0, 0.15])
def test_hardshrink_any_lambd(lambd):
    x = np.array([-0.2, 0.1, 2.0, -3.0], dtype=np.float32)
    want = torch.nn.functional.hardshrink(torch.tensor(x), lambd)
    got = graphnet.nn.functional.hardshrink(graphnet.tensor(x), lambd)
    assert got.tolist() == want.tolist()


def test_celu_zero_alpha_is_a_runtime_error():
    for T in (torch, graphnet):
        with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
            T.nn.functional.celu(T.ones(2), 0.0)


def test_private_init_helpers():
    w = graphnet.empty(16, 8, 3, 3)
    assert graphnet.nn.init._calculate_correct_fan(w, "fan_out") == \
        torch.nn.init._calculate_correct_fan(torch.empty(16, 8, 3, 3), "fan_out") == 144
    init = graphnet.nn.init
    assert init._no_grad_fill_(graphnet.empty(3), 2.5).tolist() == [2.5] * 3
    assert init._no_grad_zero_(graphnet.ones(2)).tolist() == [0.0, 0.0]
    u = init._no_grad_uniform_(graphnet.empty(1000), -0.5, 0.5)
    assert -0.5 <= float(u.min()) and float(u.max()) < 0.5
    n = init._no_grad_normal_(graphnet.empty(4000), 1.0, 0.1)
    assert abs(float(n.mean()) - 1.0) < 0.02
    t = init._no_grad_trunc_normal_(graphnet.empty(4000), 0.0, 1.0, -0.5, 0.5)
    assert -0.5 <= float(t.min()) and float(t.max()) <= 0.5


@pytest.mark.parametrize("std, a, b", [(-1.0, -2.0, 2.0), (-0.02, -0.04, 0.04)])
def test_trunc_normal_negative_std(std, a, b):
    graphnet.manual_seed(0)
    got = graphnet.nn.init.trunc_normal_(graphnet.empty(20000), 0.0, std, a, b).numpy()
    torch.manual_seed(0)
    want = torch.nn.init.trunc_normal_(torch.empty(20000), 0.0, std, a, b).numpy()
    assert got.min() >= a and got.max() <= b
    np.testing.assert_allclose(got.std(), want.std(), rtol=0.05)
    assert abs(got.mean()) < 0.05 * abs(std) + 0.01 * (b - a)
