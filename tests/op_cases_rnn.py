"""Parity cases of the recurrent family: the packed-sequence layers are reached through
nn.RNN / nn.GRU / nn.LSTM on a PackedSequence, tested as modules against PyTorch."""

from __future__ import annotations

CASES: dict = {}

_PACKED = ("tests/test_packed_sequence.py", "test_recurrent_layers_on_packed_input")
ELSEWHERE = {
    "rnn_packed_layer": ("nn.RNN(PackedSequence)", *_PACKED),
    "gru_packed_layer": ("nn.GRU(PackedSequence)", *_PACKED),
    "lstm_packed_layer": ("nn.LSTM(PackedSequence)", *_PACKED),
    "packed_lengths": ("pack_padded_sequence with traced lengths",
                       "tests/test_packed_sequence.py", "test_traced_lengths_match_torch"),
}
