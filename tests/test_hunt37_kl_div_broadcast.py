"""`F.kl_div` broadcasts its target against the input without a warning, as PyTorch does (a
KL against a uniform prior of shape [1, C]); graphnet refused it as a shape mismatch. Sizes
that do not broadcast, here and between a distribution's parameters, raise PyTorch's
RuntimeError naming the sizes (a distribution raised NumPy's ValueError). Distillation and
RL hunts."""

import numpy as np
import pytest
import torch

import graphnet


def _kl(L, reduction, compiled=False):
    x = L.log_softmax(L.linspace(-1, 1, 30).reshape(6, 5), -1).requires_grad_()
    prior = L.softmax(L.tensor([[0.1, 0.2, 0.3, 0.2, 0.5]]), -1)

    def loss(x, prior):
        return L.nn.functional.kl_div(x, prior, reduction=reduction)

    out = (graphnet.compile(loss) if compiled else loss)(x, prior)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean", "none"])
def test_kl_div_broadcasts_a_prior(reduction):
    want = _kl(torch, reduction)
    for compiled in (False, True):
        got = _kl(graphnet, reduction, compiled)
        assert got[0].shape == want[0].shape
        np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shapes", [((6, 5), (6, 4)), ((2, 3, 4), (5, 1, 4))])
def test_kl_div_sizes_that_do_not_broadcast(shapes):
    messages = []
    for L in (torch, graphnet):
        with pytest.raises(RuntimeError) as caught:
            L.nn.functional.kl_div(L.zeros(*shapes[0]), L.ones(*shapes[1]), reduction="sum")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_distribution_parameters_that_do_not_broadcast():
    messages = []
    for L in (torch, graphnet):
        with pytest.raises(RuntimeError) as caught:
            L.distributions.Normal(L.zeros(3), L.ones(2))
        messages.append(str(caught.value))
    assert messages[0] == messages[1] == ("The size of tensor a (3) must match the size of "
                                          "tensor b (2) at non-singleton dimension 0")
