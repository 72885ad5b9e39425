"""Two argument checks PyTorch makes and graphnet skipped (QAT hunt): `norm(x, 'fro', dim)`
over more than two dims goes to `linalg.matrix_norm`, which refuses them (graphnet returned a
vector 2-norm, so `prune.ln_structured(conv, n='fro', dim=0)` ran where torch raises), and a
structured pruning dim past the weight's dims raises torch's IndexError naming it."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as torch_prune

import graphnet
import graphnet.nn.utils.prune as graphnet_prune


@pytest.mark.parametrize("dim", [(1, 2, 3), [0, 1, 2, 3]])
def test_fro_over_more_than_two_dims_raises(dim):
    for L in (torch, graphnet):
        with pytest.raises(RuntimeError, match="linalg.matrix_norm: dim must be a 2-tuple"):
            L.norm(L.ones(2, 3, 4, 5), p="fro", dim=dim)


@pytest.mark.parametrize("dim", [None, 1, (0, 2), (-1,)])
def test_fro_over_at_most_two_dims_is_the_vector_two_norm(dim):
    x = [[[1.0, -2.0], [3.0, 0.5]], [[-1.5, 2.5], [0.25, 4.0]]]
    want = torch.norm(torch.tensor(x), p="fro", dim=dim)
    got = graphnet.norm(graphnet.tensor(x), p="fro", dim=dim)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_ln_structured_fro_over_a_conv_weight_raises_as_torch():
    for L, prune in ((torch, torch_prune), (graphnet, graphnet_prune)):
        with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
            prune.ln_structured(L.nn.Conv2d(2, 4, 3), "weight", amount=0.5, n="fro", dim=0)


@pytest.mark.parametrize("method", ["ln_structured", "random_structured"])
def test_structured_pruning_dim_out_of_range(method):
    for L, prune in ((torch, torch_prune), (graphnet, graphnet_prune)):
        kw = {"n": 2} if method == "ln_structured" else {}
        with pytest.raises(IndexError, match=r"Invalid index 3 for tensor of size \w+\.Size\("
                                             r"\[4, 4\]\)"):
            getattr(prune, method)(L.nn.Linear(4, 4), "weight", amount=0.5, dim=3, **kw)
