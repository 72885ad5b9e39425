"""Degenerate sizes as PyTorch handles them: ctc_loss of a batch whose targets are all empty
(it crashed: the one-state scan changed its carry's shape), and GroupNorm's refusal of a group
holding a single value (it returned the bias)."""

import numpy as np
import pytest
import torch

import graphnet


def _ctc(T, compiled, reduction):
    torch.manual_seed(0)
    logits = torch.randn(5, 2, 4)
    x = T.tensor(logits.numpy(), requires_grad=True)

    def loss(x):
        return T.nn.functional.ctc_loss(
            x.log_softmax(2), T.zeros(2, 0, dtype=T.long), T.tensor([5, 3]),
            T.tensor([0, 0]), reduction=reduction)
    fn = graphnet.compile(loss) if compiled else loss
    out = fn(x)
    out.backward()
    return out.item(), x.grad.numpy()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_ctc_with_every_target_empty(compiled, reduction):
    want, want_grad = _ctc(torch, False, reduction)
    got, got_grad = _ctc(graphnet, compiled, reduction)
    assert got == pytest.approx(want, rel=1e-6)
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape,groups", [((1, 4, 1, 1), 4), ((1, 6), 6)])
def test_group_norm_refuses_one_value_per_group(shape, groups):
    for T in (torch, graphnet):
        with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                             rf"training, got input size \[{shape[0]}, "):
            T.nn.GroupNorm(groups, shape[1])(T.ones(shape))
    fn = graphnet.compile(lambda x: graphnet.nn.functional.group_norm(x, groups))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        fn(graphnet.ones(shape))


@pytest.mark.parametrize("shape,groups", [((1, 6), 3), ((0, 4, 1, 1), 4), ((2, 4, 1, 1), 4)])
def test_group_norm_with_more_than_one_value_runs(shape, groups):
    want = torch.nn.functional.group_norm(torch.arange(float(np.prod(shape))).reshape(shape),
                                          groups)
    got = graphnet.nn.functional.group_norm(
        graphnet.arange(float(np.prod(shape))).reshape(shape), groups)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
