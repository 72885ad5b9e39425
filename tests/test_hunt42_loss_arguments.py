"""Class-index losses refuse labels that are not tensors (a Python list, an int) with
PyTorch's TypeError naming the argument, instead of an AttributeError from reading `.shape`."""
import pytest
import torch

import graphnet as G


@pytest.mark.parametrize("fn, kernel", [("cross_entropy", "cross_entropy_loss"),
                                        ("nll_loss", "nll_loss_nd")])
@pytest.mark.parametrize("target", [[0, 1], 3])
def test_non_tensor_target_is_a_type_error_as_in_torch(fn, kernel, target):
    with pytest.raises(TypeError) as want:
        getattr(torch.nn.functional, fn)(torch.zeros(2, 3), target)
    with pytest.raises(TypeError) as got:
        getattr(G.nn.functional, fn)(G.zeros(2, 3), target)
    assert str(got.value) == str(want.value)
    assert f"{kernel}(): argument 'target' (position 2)" in str(got.value)


def test_module_form_and_compiled_call_raise_the_same():
    loss = G.nn.CrossEntropyLoss()
    step = G.compile(lambda x: loss(x, [1, 0]))
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        step(G.zeros(2, 3))
