"""A float64 BatchNorm's cumulative average (momentum=None) keeps float64's precision (1/n
was divided in float32), and Embedding/EmbeddingBag have PyTorch's
`_fill_padding_idx_with_zero`, which subclasses call after their own init."""
import numpy as np
import pytest
import torch

import graphnet as G


@pytest.mark.parametrize("static", [False, True])
def test_double_batchnorm_cumulative_average_is_double_precise(static):
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((8, 4)) * 3 + 1 for _ in range(3)]
    want = torch.nn.BatchNorm1d(4, momentum=None).double()
    got = G.nn.BatchNorm1d(4, momentum=None).double()
    step = G.compile(lambda x: got(x)) if static else got
    for b in batches:
        want(torch.tensor(b))
        step(G.tensor(b))
    np.testing.assert_allclose(got.running_var.numpy(), want.running_var.numpy(), rtol=1e-13)
    np.testing.assert_allclose(got.running_mean.numpy(), want.running_mean.numpy(),
                               rtol=1e-13, atol=1e-15)
    assert got.running_var.dtype == G.float64


@pytest.mark.parametrize("cls, args", [("Embedding", (6, 3)), ("EmbeddingBag", (6, 3))])
def test_fill_padding_idx_with_zero_after_a_custom_init(cls, args):
    for lib in (torch, G):
        class Custom(getattr(lib.nn, cls)):
            def reset_parameters(self):
                lib.nn.init.constant_(self.weight, 0.5)
                self._fill_padding_idx_with_zero()

        m = Custom(*args, padding_idx=-2)
        assert m.weight[4].tolist() == [0.0, 0.0, 0.0]
        assert m.weight[0].tolist() == [0.5, 0.5, 0.5]
        plain = getattr(lib.nn, cls)(*args)
        with lib.no_grad():
            plain.weight.fill_(1.0)
        plain._fill_padding_idx_with_zero()     # no padding row: nothing changes
        assert plain.weight.sum().item() == 18.0
