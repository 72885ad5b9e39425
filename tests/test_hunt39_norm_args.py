"""torch.linalg.norm with a matrix norm's name and one dim raises PyTorch's RuntimeError
(it was a ValueError from float('fro')); vector_norm with a string order is a TypeError."""
import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("ord_, dim", [("fro", -1), ("nuc", (1,)), ("abc", -1)])
def test_matrix_order_with_one_dim(ord_, dim):
    x = torch.randn(2, 3, 3)
    with pytest.raises(RuntimeError) as want:
        torch.linalg.norm(x, ord_, dim=dim)
    with pytest.raises(RuntimeError) as got:
        gn.linalg.norm(gn.tensor(x.numpy()), ord_, dim=dim)
    assert str(got.value) == str(want.value)


def test_vector_norm_string_order():
    with pytest.raises(TypeError, match="must be Number, not str"):
        gn.linalg.vector_norm(gn.ones(3), "fro")
