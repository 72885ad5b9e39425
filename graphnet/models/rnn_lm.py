"""A word-level recurrent language model: Embedding -> RNN/GRU/LSTM -> Linear.

Tokens are [seq_len, batch] (PyTorch's default `batch_first=False` layout); the logits are
[seq_len, batch, vocab_size]. The recurrent state is returned so a long text can be fed in
chunks (truncated backpropagation: pass `state` back in, detached).

>>> lm = RNNLanguageModel(vocab_size=100, embed_size=16, hidden_size=32)
>>> logits, (h, c) = lm(graphnet.randint(0, 100, (35, 4)))
>>> logits.shape, h.shape
(graphnet.Size([35, 4, 100]), graphnet.Size([1, 4, 32]))
"""

from __future__ import annotations

from graphnet import nn
from graphnet._errors import shape_error

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RNNLanguageModel(nn.Module):
    """`embedding` (vocab_size -> embed_size), `rnn` (the recurrent layer(s), `cell` one of
    "lstm", "gru", "rnn"), `dense` (hidden_size -> vocab_size logits).

    forward(tokens [T, N] int64, state=None) -> (logits [T, N, vocab_size], state), where
    state is (h, c) for an LSTM and h for RNN/GRU, each [num_layers, N, hidden_size]."""

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "lstm", dropout: float = 0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.vocab_size, self.hidden_size, self.cell = vocab_size, hidden_size, cell
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = CELLS[cell](embed_size, hidden_size, num_layers=num_layers, dropout=dropout)
        self.dense = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        if tokens.dim() != 2:
            # NOTE: one sequence is tokens.unsqueeze(1), a batch of one
            raise shape_error(f"expected input tokens [seq_len, batch], got "
                              f"{list(tokens.shape)}", module=self)
        output, state = self.rnn(self.embedding(tokens), state)
        return self.dense(output), state
