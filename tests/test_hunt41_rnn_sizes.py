"""RNN constructors check their sizes as PyTorch's: a zero or negative input_size is a
ValueError (it built a module with empty weights), a float size or layer count a TypeError."""
import pytest
import torch

import graphnet as G

CASES = [dict(input_size=0, hidden_size=4), dict(input_size=-1, hidden_size=4),
         dict(input_size=3, hidden_size=0), dict(input_size=3, hidden_size=4, num_layers=0),
         dict(input_size=3.0, hidden_size=4), dict(input_size=3, hidden_size=4.0),
         dict(input_size=3, hidden_size=4, num_layers=2.0)]


@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("kwargs", CASES)
def test_rnn_size_errors_match_torch(cls, kwargs):
    with pytest.raises(Exception) as want:
        getattr(torch.nn, cls)(**kwargs)
    with pytest.raises(want.type, match=str(want.value)):
        getattr(G.nn, cls)(**kwargs)
