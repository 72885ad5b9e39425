"""nn.RNN / nn.GRU / nn.LSTM over a PackedSequence.

The packed rows are gathered into a padded time-major [T, B, I] batch (sorted by decreasing
length, as the PackedSequence is), and each layer runs a masked op (`lstm_packed_layer` ...)
that leaves a sequence's state unchanged after its last step, so its final state is the one
at its own length, as in PyTorch. The reverse direction reads each sequence backwards from
its own last step: a gather that flips the first `length` steps of every column. Every index
comes from `batch_sizes`, which is known when a compiled function is traced (see
nn/utils/rnn.py), so both modes run the same static shapes."""

from __future__ import annotations

import numpy as np

from .. import _factories as fac
from .. import _math as M
from . import functional as F
from .utils import _rnn_traced
from .utils.rnn import _MADE_INSIDE, PackedSequence, known_ints, lengths_of, packed_rows


def _initial(rnn, state, full: tuple, name: str, sorted_indices, dtype):
    """hx in the user's batch order -> [L*D, B, H] in the packed (sorted) order."""
    if name == "hidden[0]" and rnn.proj_size:   # LSTM with projections carries h of size P
        full = (*full[:2], rnn.proj_size)
    if state is None:
        return fac.zeros(full, dtype=dtype)
    if sorted_indices is not None:
        state = state.index_select(1, sorted_indices)
    if tuple(state.shape) != full:
        raise RuntimeError(f"Expected {name} size {full}, got {list(state.shape)}")
    rnn._check_state_dtypes([state])
    return state


def run_packed(rnn, packed: PackedSequence, states: list, names: list):
    """Run `rnn` (an RNNBase) over `packed` from initial `states` (tensors or None, in the
    user's batch order). Returns (output PackedSequence, [final states in the user's order])."""
    if _rnn_traced.is_traced(packed):
        return _run_traced(rnn, packed, states, names)
    data, batch_sizes_t, sorted_indices, unsorted_indices = packed
    batch_sizes = known_ints(batch_sizes_t, "a PackedSequence's batch_sizes", _MADE_INSIDE)
    if data.dim() != 2:
        raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
    if data.shape[-1] != rnn.input_size:
        raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                           f"{rnn.input_size}, got {data.shape[-1]}")
    rnn._check_dtype(data)
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    full = (rnn.num_layers * rnn._directions, batch, rnn.hidden_size)
    states = [_initial(rnn, s, full, n, sorted_indices, data.dtype)
              for s, n in zip(states, names, strict=True)]

    flat, row = packed_rows(batch_sizes, steps)
    valid = row >= 0
    lengths = lengths_of(batch_sizes)
    t, b = np.meshgrid(np.arange(steps), np.arange(batch), indexing="ij")
    # NOTE: padded steps read packed row 0; the masked op never lets them reach a result.
    x = data[fac.tensor(np.where(valid, row, 0))]
    mask = fac.tensor(valid)
    within = fac.tensor((np.where(valid, lengths[None, :] - 1 - t, t) * batch + b).reshape(-1))

    def flip_within(seq):   # step t of sequence b <-> step length_b - 1 - t (an involution)
        return seq.reshape(steps * batch, -1)[within].reshape(steps, batch, -1)

    x, finals = _layers(rnn, x, mask, flip_within, states)
    out = x.reshape(steps * batch, -1)[fac.tensor(flat)]
    if unsorted_indices is not None:
        finals = [f.index_select(1, unsorted_indices) for f in finals]
    return PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices), finals


def _layers(rnn, x, mask, flip_within, states):
    """Every layer and direction over the padded [T, B, *] batch -> (outputs [T, B, D*H],
    [stacked final states])."""
    finals = [[] for _ in states]
    for layer in range(rnn.num_layers):
        outputs = []
        for direction, suffix in enumerate(rnn._suffixes):
            index = layer * rnn._directions + direction
            initial = [s[index] for s in states]
            params = rnn._layer_params(layer, suffix)
            source = x if direction == 0 else flip_within(x)
            results = rnn._packed_op(source, mask, initial, params)
            outputs.append(results[0] if direction == 0 else flip_within(results[0]))
            for final, value in zip(finals, results[1:], strict=True):
                final.append(value)
        x = outputs[0] if len(outputs) == 1 else M.cat(outputs, dim=2)
        if rnn.dropout and rnn.training and layer < rnn.num_layers - 1:
            x = F.dropout(x, rnn.dropout, training=True)
    return x, [M.stack(f, dim=0) for f in finals]


def _run_traced(rnn, packed, states: list, names: list):
    """run_packed for lengths a compiled function only has as traced values: the batch stays
    padded and in the user's order (nn/utils/_rnn_traced.py)."""
    x, lengths, mask, flip = packed.padded()
    if x.shape[-1] != rnn.input_size:
        raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                           f"{rnn.input_size}, got {x.shape[-1]}")
    rnn._check_dtype(x)
    steps, batch = x.shape[0], x.shape[1]
    full = (rnn.num_layers * rnn._directions, batch, rnn.hidden_size)
    states = [_initial(rnn, s, full, n, None, x.dtype) for s, n in zip(states, names,
                                                                       strict=True)]
    x = x.reshape(steps, batch, -1)

    def flip_within(seq):
        return seq.gather(0, flip.unsqueeze(-1).expand(steps, batch, seq.shape[-1]))

    out, finals = _layers(rnn, x, mask, flip_within, states)
    return _rnn_traced.make(out, lengths, mask, flip, packed.sorted_indices,
                            packed.unsorted_indices), finals
