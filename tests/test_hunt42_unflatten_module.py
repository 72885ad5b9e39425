"""nn.Unflatten checks as Tensor.unflatten does: a dim out of range raises PyTorch's
IndexError (it wrapped around: Unflatten(3, (2, 2)) of a 3-d input unflattened dim 0,
silently), and sizes that do not multiply up name unflatten."""
import pytest
import torch

import graphnet as G


@pytest.mark.parametrize("compiled", [False, True])
def test_dim_out_of_range(compiled):
    with pytest.raises(IndexError) as want:
        torch.nn.Unflatten(3, (2, 2))(torch.ones(4, 5, 6))
    run = G.nn.Unflatten(3, (2, 2))
    run = G.compile(run) if compiled else run
    with pytest.raises(IndexError) as got:
        run(G.ones(4, 5, 6))
    assert str(got.value) == str(want.value)


def test_sizes_that_do_not_multiply_up():
    with pytest.raises(RuntimeError) as want:
        torch.nn.Unflatten(1, (5, 2))(torch.ones(2, 3, 6))
    with pytest.raises(RuntimeError) as got:
        G.nn.Unflatten(1, (5, 2))(G.ones(2, 3, 6))
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("dim, sizes", [(1, (2, 3)), (-1, (3, -1)), (-2, [2, 2])])
def test_valid_forms_as_torch(dim, sizes):
    want = torch.nn.Unflatten(dim, sizes)(torch.arange(24.0).reshape(4, 6))
    got = G.nn.Unflatten(dim, sizes)(G.arange(24.0).reshape(4, 6))
    assert tuple(got.shape) == tuple(want.shape) and got.tolist() == want.tolist()
