"""PyTorch's deprecation warnings that older code meets on every call: a loss's
size_average/reduce flags and torch.range (graphnet ran them silently)."""
import warnings

import pytest
import torch

import graphnet as G

CALLS = {
    "size_average": lambda L: L.nn.functional.mse_loss(L.ones(2), L.zeros(2),
                                                       size_average=False),
    "reduce module": lambda L: L.nn.L1Loss(reduce=False)(L.ones(2), L.zeros(2)),
    "range": lambda L: L.range(0, 3),
}


@pytest.mark.parametrize("case", sorted(CALLS))
def test_same_warning_as_torch(case):
    messages = []
    for lib in (torch, G):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            CALLS[case](lib)
        messages.append([(w.category, str(w.message)) for w in caught])
    assert messages[1] == messages[0] and messages[0]
