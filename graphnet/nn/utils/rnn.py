"""`graphnet.nn.utils.rnn`: variable-length batches for recurrent layers, as PyTorch has them.

A `PackedSequence` stores the steps of a sorted batch time step by time step: `data` holds
`batch_sizes[0]` rows for step 0, then `batch_sizes[1]` rows for step 1 ...; nn.RNN, nn.GRU
and nn.LSTM accept one and stop each sequence at its own length.

Packing and padding are gathers with index arrays computed from the lengths, so they run the
same eagerly and inside `graphnet.compile`, and gradients flow through them. The lengths
decide the packed shapes: when a compiled function's trace knows them (a Python list, a
tensor made inside the function) the layout is exactly PyTorch's; a lengths tensor passed to
the compiled function keeps the batch padded with a step mask (see _rnn_traced.py), which
pack -> RNN -> pad_packed_sequence handles with PyTorch's numbers.

>>> packed = pack_padded_sequence(x, [5, 3, 2], batch_first=True)
>>> out, (h, c) = lstm(packed)
>>> padded, lengths = pad_packed_sequence(out, batch_first=True)
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ... import _dtype as D
from ... import _factories as fac
from ... import _math as M
from ... import _mode
from ..._errors import TraceError, forgive_refusal
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def known_ints(values, what: str, fix: str = "Pass the lengths as a Python list (compiled "
               "once per distinct list)") -> np.ndarray:
    """The int64 values of `values` (a tensor or a list) as a NumPy array. They decide the
    shapes of packed data, so a value a static graph does not have raises a TraceError."""
    if not isinstance(values, Tensor):
        return np.asarray(values, dtype=np.int64)
    try:
        return np.asarray(values.tolist(), dtype=np.int64)
    except TraceError as error:
        raise TraceError(
            f"{what} decides the shape of packed sequence data, so graphnet.compile needs its "
            f"values when it traces, but it is a tensor argument of the compiled function. "
            f"{fix}, or call this code uncompiled / graphnet.compile(..., mode='dynamic')."
        ) from error


_MADE_INSIDE = ("Pass the padded batch and its lengths to the compiled function and pack there "
                "(a PackedSequence made outside carries its layout as traced values)")


def _traced(values) -> bool:
    """A tensor whose values a compiled function's trace does not have."""
    return _known_while_tracing(values) is None and isinstance(values, Tensor) \
        and _mode.tracing()


def _known_while_tracing(values) -> np.ndarray | None:
    """Inside a trace: the values of a tensor the trace has (one made inside from constants),
    else None. Outside a trace: None (eager code computes with tensors as usual)."""
    if not (isinstance(values, Tensor) and _mode.tracing()):
        return None
    try:
        return np.asarray(values.tolist(), dtype=np.int64)
    except TraceError as error:
        forgive_refusal(error)
        return None


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of variable-length sequences packed step by step (see the module docstring).

    Make one with `pack_padded_sequence` or `pack_sequence`, never by hand. `batch_sizes[t]`
    is how many sequences have a step t; `sorted_indices` (None when the batch was already
    sorted by decreasing length) maps sorted position to the original batch index."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """Like `Tensor.to` on `data`; the indices follow data's device, never its dtype."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args, **kwargs) -> "PackedSequence":
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes,
                          self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs) -> "PackedSequence":
        return type(self)(self.data.cpu(*args, **kwargs), self.batch_sizes,
                          self.sorted_indices, self.unsorted_indices)

    def pin_memory(self) -> "PackedSequence":
        return self   # NOTE: XLA owns host/device transfers; there is no pinned memory to ask for

    def double(self):
        return self.to(dtype=D.float64)

    def float(self):
        return self.to(dtype=D.float32)

    def half(self):
        return self.to(dtype=D.float16)

    def long(self):
        return self.to(dtype=D.int64)

    def int(self):
        return self.to(dtype=D.int32)

    def short(self):
        return self.to(dtype=D.int16)

    def char(self):
        return self.to(dtype=D.int8)

    def byte(self):
        return self.to(dtype=D.uint8)

    @property
    def is_cuda(self) -> bool:
        return "cuda" in str(self.data.device)

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1: `out[permutation[i]] = i`. None stays None."""
    if permutation is None:
        return None
    known = _known_while_tracing(permutation)
    if known is not None and known.ndim == 1 and np.array_equal(np.sort(known),
                                                                  np.arange(known.size)):
        # NOTE: computed here so that it stays known to the trace: unpack_sequence and
        # pad_packed_sequence's lengths need the values to decide shapes.
        inverse = np.empty_like(known)
        inverse[known] = np.arange(known.size)
        return fac.tensor(inverse).to(permutation.dtype)
    out = fac.zeros_like(permutation)
    return out.scatter_(0, permutation, fac.arange(permutation.numel(), dtype=permutation.dtype))


def _check_lengths(lengths: np.ndarray, batch: int, steps: int) -> None:
    """PyTorch's checks, in its order (the last length first, then the sort order)."""
    if lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D cpu Long tensor")
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch})")
    if batch == 0 or lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if lengths[0] > steps:
        # NOTE: PyTorch reads past the end of the input here; graphnet refuses.
        raise RuntimeError(f"pack_padded_sequence: the longest length ({lengths[0]}) exceeds "
                           f"the padded input's {steps} time steps")


def batch_sizes_of(lengths: np.ndarray) -> np.ndarray:
    """Sorted lengths -> how many sequences have each time step."""
    return (lengths[None, :] > np.arange(lengths[0])[:, None]).sum(axis=1).astype(np.int64)


def lengths_of(batch_sizes: np.ndarray) -> np.ndarray:
    """batch_sizes -> the (sorted) length of each sequence."""
    return (batch_sizes[None, :] > np.arange(batch_sizes[0])[:, None]).sum(axis=1)


def packed_rows(batch_sizes: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """For a [steps, batch] padded layout: (the flat padded position of each packed row,
    for each padded position the packed row it holds, or -1 for padding)."""
    batch = int(batch_sizes[0])
    t, b = np.meshgrid(np.arange(steps), np.arange(batch), indexing="ij")
    valid = np.zeros((steps, batch), bool)
    valid[:len(batch_sizes)] = b[:len(batch_sizes)] < batch_sizes[:, None]
    flat = (t * batch + b)[valid]
    row = np.full((steps, batch), -1, np.int64)
    row[valid] = np.arange(valid.sum())
    return flat, row


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch [T, B, *] ([B, T, *] if batch_first) of sequences of `lengths`.

    With `enforce_sorted=True` the lengths must decrease; otherwise the batch is sorted (a
    stable sort, like PyTorch's) and the permutation kept in `sorted_indices`."""
    if _traced(lengths):
        from ._rnn_traced import pack_traced   # NOTE: that module builds on this one

        return pack_traced(input, lengths, batch_first, enforce_sorted)
    lengths = known_ints(lengths, "pack_padded_sequence's lengths")
    sorted_indices = None
    if not enforce_sorted and lengths.ndim == 1:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = fac.tensor(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    if input.dim() < 2:
        raise RuntimeError(f"pack_padded_sequence expects a padded input of at least 2 "
                           f"dimensions, [T, B, *], got shape {list(input.shape)}")
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    steps, batch = input.shape[0], input.shape[1]
    _check_lengths(lengths, batch, steps)
    batch_sizes = batch_sizes_of(lengths)
    flat, _ = packed_rows(batch_sizes, steps)
    rows = input.reshape(steps * batch, *input.shape[2:])
    from ..._autograd import node_named

    data = node_named(rows[fac.tensor(flat)], "PackPaddedSequenceBackward0")
    return PackedSequence(data, fac.tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """Undo `pack_padded_sequence`: (padded [T, B, *] or [B, T, *], lengths int64 [B]) in the
    original batch order; T is the longest length, or `total_length`."""
    from ._rnn_traced import is_traced, pad_traced

    if is_traced(sequence):
        return pad_traced(sequence, batch_first, padding_value, total_length)
    batch_sizes = known_ints(sequence.batch_sizes, "a PackedSequence's batch_sizes", _MADE_INSIDE)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    data = sequence.data
    _, row = packed_rows(batch_sizes, steps)
    pad = fac.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    rows = M.cat([data, pad], dim=0)
    padded = rows[fac.tensor(np.where(row < 0, data.shape[0], row))]
    lengths = fac.tensor(lengths_of(batch_sizes).astype(np.int64))
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        known = _known_while_tracing(sequence.unsorted_indices)
        if known is not None:   # NOTE: keeps the lengths known to a trace (unpack_sequence)
            lengths = fac.tensor(lengths_of(batch_sizes).astype(np.int64)[known])
        else:
            lengths = lengths[sequence.unsorted_indices]
    return padded, lengths


def _check_slot(seq: Tensor, slot: tuple) -> None:
    """PyTorch copies each sequence into its slot with broadcasting; say what copy_ says."""
    shape = tuple(seq.shape)
    if len(shape) > len(slot):
        raise RuntimeError(f"output with shape {list(slot)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    for dim in range(1, len(shape) + 1):
        a, b = slot[-dim], shape[-dim]
        if b not in (1, a):
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {len(slot) - dim}")


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths [L_i, *] into [T, B, *] ([B, T, *] if
    batch_first), filling the missing steps with `padding_value` on `padding_side`. The
    result has the first sequence's dtype.

    >>> pad_sequence([graphnet.ones(3, 2), graphnet.ones(1, 2)], batch_first=True).shape
    (2, 3, 2)"""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    if first.dim() == 0:
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    trailing = tuple(first.shape[1:])
    longest = max(seq.shape[0] for seq in sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if first.dtype.name == "uint8" and padding_value < 0:   # PyTorch's fill refuses it
        raise RuntimeError("value cannot be converted to type uint8_t without overflow")
    padded = []
    for seq in sequences:
        length = seq.shape[0]
        _check_slot(seq, (length, *trailing))
        seq = seq.to(first.dtype).expand(length, *trailing)
        fill = fac.full((longest - length, *trailing), padding_value, dtype=first.dtype)
        parts = [seq, fill] if padding_side == "right" else [fill, seq]
        padded.append(M.cat(parts, dim=0))
    return M.stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences [L_i, *]. Like PyTorch, a time-major
    input is transposed in place (`padded_sequences.transpose_(0, 1)`), and each sequence
    is a copy (PyTorch selects its steps with a mask), not a view of the padded batch."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    lengths = known_ints(lengths, "unpad_sequence's lengths")
    # a negative length selects no step, as PyTorch's mask `arange(T) < length` does
    return [seq[:max(int(length), 0)].clone()
            for seq, length in zip(padded_sequences.unbind(0), lengths, strict=True)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences [L_i, *] (pad_sequence, then pack_padded_sequence)."""
    lengths = [seq.shape[0] for seq in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """Undo `pack_sequence`: the list of sequences in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
