"""LSTM with projections (proj_size > 0) against PyTorch: padded and packed input, values
and gradients, dynamic and static; parameter names, repr and the constructor's errors."""

import numpy as np
import pytest
from parity import check_module, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)
T, N, I, H, P = 4, 3, 5, 4, 2  # noqa: E741


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def wrappers(packed_lengths, **kwargs):
    def make(lib):
        utils = lib.nn.utils.rnn

        class Wrap(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = lib.nn.LSTM(I, H, proj_size=P, **kwargs)

            def forward(self, x, h0, c0):
                if packed_lengths is not None:
                    x = utils.pack_padded_sequence(x, packed_lengths, enforce_sorted=False)
                out, (h, c) = self.lstm(x, (h0, c0))
                if packed_lengths is not None:
                    out = utils.pad_packed_sequence(out)[0]
                return lib.cat([out.reshape(-1), h.reshape(-1), c.reshape(-1)])
        return Wrap()
    return make(graphnet), make(torch)


@pytest.mark.parametrize("packed_lengths", [None, [2, 4, 3]], ids=["padded", "packed"])
def test_lstm_proj_matches_torch(packed_lengths):
    ours, theirs = wrappers(packed_lengths, num_layers=2, bidirectional=True)
    check_module(ours, theirs, [arr(T, N, I), arr(4, N, P), arr(4, N, H)])


def test_lstm_proj_names_repr_and_errors():
    ours = nn.LSTM(I, H, proj_size=P, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(I, H, proj_size=P, num_layers=2, bidirectional=True)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    for bad in (H, -1):
        with pytest.raises(ValueError) as expected:
            torch.nn.LSTM(I, H, proj_size=bad)
        with pytest.raises(ValueError, match=str(expected.value)):
            nn.LSTM(I, H, proj_size=bad)
