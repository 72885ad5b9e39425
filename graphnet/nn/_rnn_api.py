"""The introspection and checking methods PyTorch's RNNBase has beside `forward`:
`flatten_parameters()` (cuDNN's weight packing; a no-op here, as on PyTorch's CPU),
`_flat_weights`, `_flat_weights_names`, `all_weights`, and the shape checks user code calls
before passing its own hidden state (`check_forward_args`, `get_expected_hidden_size`,
`permute_hidden`). LSTM's versions check the cell state too."""

from __future__ import annotations


class RNNMethods:
    """Mixed into RNNBase (graphnet/nn/_rnn.py), which provides the parameters."""

    def flatten_parameters(self) -> None:
        """Nothing to do: graphnet keeps no packed copy of the weights (PyTorch packs them for
        cuDNN only, and returns at once on a CPU)."""

    @property
    def _flat_weights_names(self) -> list:
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else []) \
            + (["weight_hr"] if self.proj_size else [])
        return [f"{name}_l{layer}{suffix}" for layer in range(self.num_layers)
                for suffix in self._suffixes for name in names]

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters per layer and direction: [[w_ih, w_hh, b_ih, b_hh, (w_hr)], ...]."""
        return [self._layer_params(layer, suffix) for layer in range(self.num_layers)
                for suffix in self._suffixes]

    def get_expected_hidden_size(self, input, batch_sizes) -> tuple:
        if batch_sizes is not None:
            batch = int(batch_sizes[0])
        else:
            batch = input.shape[0] if self.batch_first else input.shape[1]
        return (self.num_layers * self._directions, batch, self.proj_size or self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.shape)))

    def check_input(self, input, batch_sizes) -> None:
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        expected = self.get_expected_hidden_size(input, batch_sizes)
        if self.mode == "LSTM":
            self.check_hidden_size(hidden[0], expected, "Expected hidden[0] size {}, got {}")
            cell = expected[:2] + (self.hidden_size,)
            self.check_hidden_size(hidden[1], cell, "Expected hidden[1] size {}, got {}")
        else:
            self.check_hidden_size(hidden, expected)

    def permute_hidden(self, hx, permutation):
        """`hx` with its batch in `permutation`'s order (None: unchanged)."""
        if permutation is None:
            return hx
        if self.mode == "LSTM":
            return tuple(h.index_select(1, permutation) for h in hx)
        return hx.index_select(1, permutation)
