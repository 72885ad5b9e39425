"""CTC and 1-d pooling edges (thirty-third session's audio hunt): a gradient of CTC's
gradient raises as in PyTorch (graphnet differentiated its backward formula and gave
partly-NaN numbers), a -inf log-prob makes only its own class's gradient NaN (graphnet's
one-hot contraction spread it to the frame's every class), `AdaptiveAvgPool1d(None)` is a
TypeError (graphnet kept the input's size), and `stft` is refused by a TypeError that says
what to do, as docs/coverage.md says."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _ctc_inputs(lib, log_probs):
    return (lib.tensor([[1, 2, 1]]), lib.tensor([8]), lib.tensor([3]))


def _second_order(b, targets, inputs, lengths):
    g, = gn.autograd.grad(gn.nn.functional.ctc_loss(b, targets, inputs, lengths), b,
                          create_graph=True)
    g.sum().backward()
    return g.detach()


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_ctc_gradient_of_gradient_raises_as_torch(compile_):
    torch.manual_seed(0)
    lp = torch.randn(8, 1, 5).log_softmax(-1)
    a = lp.clone().requires_grad_()
    g, = torch.autograd.grad(torch.nn.functional.ctc_loss(a, *_ctc_inputs(torch, lp)), a,
                             create_graph=True)
    with pytest.raises(RuntimeError, match="_ctc_loss_backward is not implemented"):
        g.sum().backward()
    b = gn.tensor(lp.numpy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="_ctc_loss_backward is not implemented"):
        compile_(_second_order)(b, *_ctc_inputs(gn, lp))


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_ctc_minus_inf_log_prob_is_nan_in_its_own_class_only(compile_):
    torch.manual_seed(1)
    lp = torch.randn(4, 1, 3).log_softmax(-1)
    lp[1, 0, 2] = -float("inf")
    args = ([[1, 2]], [4], [2])
    a = lp.clone().requires_grad_()
    torch.nn.functional.ctc_loss(a, *map(torch.tensor, args), reduction="sum").backward()
    b = gn.tensor(lp.numpy(), requires_grad=True)

    def step(b, *rest):
        gn.nn.functional.ctc_loss(b, *rest, reduction="sum").backward()

    compile_(step)(b, *map(gn.tensor, args))
    expected, got = a.grad.numpy(), b.grad.numpy()
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.isnan(expected).sum() == 1
    np.testing.assert_allclose(got[~np.isnan(got)], expected[~np.isnan(expected)],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [None, (None,)])
@pytest.mark.parametrize("name", ["AdaptiveAvgPool1d", "AdaptiveMaxPool1d"])
def test_one_d_adaptive_pool_refuses_none_as_torch(name, size):
    x = torch.randn(2, 3, 10)
    with pytest.raises(TypeError, match="must be tuple of ints"):
        getattr(torch.nn, name)(size)(x)
    with pytest.raises(TypeError, match="must be tuple of ints"):
        getattr(gn.nn, name)(size)(gn.tensor(x.numpy()))


def test_two_d_adaptive_pool_still_keeps_a_none_size():
    out = gn.nn.AdaptiveAvgPool2d((None, 3))(gn.ones(2, 3, 10, 5))
    assert tuple(out.shape) == (2, 3, 10, 3)


@pytest.mark.parametrize("call", [lambda: gn.stft(gn.ones(64), 16),
                                  lambda: gn.ones(64).stft(16),
                                  lambda: gn.istft(gn.ones(9, 4), 16)])
def test_stft_is_refused_with_a_type_error_that_says_what_to_do(call):
    with pytest.raises(TypeError, match="no complex dtypes.*matmuls"):
        call()
