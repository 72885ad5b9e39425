"""`torch.nn.modules.rnn`'s names, for code that imports them from there."""

from __future__ import annotations

from .. import (  # noqa: F401
    GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase
)
