"""Packed sequences inside `graphnet.compile` when the lengths are traced values (a lengths
tensor passed to the compiled function).

PyTorch's packed layout has `sum(lengths)` rows, a shape the trace cannot know. So in that
case the batch stays padded, time-major [T, B, *], with a step mask made from the lengths
(op `packed_lengths`, which also checks them as PyTorch does, after the call). Recurrent
layers run their masked ops on it and `pad_packed_sequence` pads it back, so the common
program (pack -> RNN/LSTM/GRU -> pad) gives PyTorch's numbers with static shapes.

What the padded form cannot give raises a `TraceError` saying what to do: reading
`.data` / `.batch_sizes` or unpacking the tuple. `pad_packed_sequence` without
`total_length` returns T steps and checks, after the call, that the longest length is T
(PyTorch returns max(lengths) steps)."""

from __future__ import annotations

from ... import _factories as fac
from ... import _math as M
from ..._dispatch import dispatch
from ..._errors import TraceError
from ..._tensor import Tensor
from .rnn import PackedSequence, invert_permutation

_WAY_OUT = ("Pass the lengths as a Python list (compiled once per distinct list), or call this "
            "code uncompiled / graphnet.compile(..., mode='dynamic').")


def _refuse(what: str):
    return TraceError(
        f"{what} of a PackedSequence made inside graphnet.compile from traced lengths has a "
        f"shape that depends on the length values, so the compiled function keeps the batch "
        f"padded instead. Feed the PackedSequence to nn.RNN/LSTM/GRU and pad_packed_sequence, "
        f"or: {_WAY_OUT}")


class TracedPackedSequence(PackedSequence):
    """A PackedSequence whose lengths are traced: it holds the padded time-major batch, the
    int64 lengths [B], and the step mask and reversal index made from them."""

    def __new__(cls, padded, lengths, sorted_indices=None, unsorted_indices=None):
        return tuple.__new__(cls, (padded, lengths, sorted_indices, unsorted_indices))

    @property
    def data(self):
        raise _refuse("`.data`")

    @property
    def batch_sizes(self):
        raise _refuse("`.batch_sizes`")

    sorted_indices = property(lambda self: tuple.__getitem__(self, 2))
    unsorted_indices = property(lambda self: tuple.__getitem__(self, 3))

    def __iter__(self):
        raise _refuse("Unpacking")

    def __getitem__(self, index):
        raise _refuse("Indexing")

    def __repr__(self) -> str:
        return "PackedSequence(<traced lengths: kept padded inside graphnet.compile>)"

    def padded(self):
        """(padded [T, B, *], lengths [B], mask [T, B], reversal [T, B])."""
        return tuple.__getitem__(self, 0), tuple.__getitem__(self, 1), self.mask, self.flip


def is_traced(packed) -> bool:
    return isinstance(packed, TracedPackedSequence)


def make(padded: Tensor, lengths: Tensor, mask: Tensor, flip: Tensor, sorted_indices,
         unsorted_indices):
    packed = TracedPackedSequence(padded, lengths, sorted_indices, unsorted_indices)
    packed.mask, packed.flip = mask, flip
    return packed


def pack_traced(input: Tensor, lengths: Tensor, batch_first: bool, enforce_sorted: bool):
    """pack_padded_sequence with traced lengths (see the module docstring)."""
    if lengths.dim() != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.dim()}D cpu Long tensor")
    lengths = lengths.long()
    if batch_first:
        input = input.transpose(0, 1)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    steps, batch = input.shape[0], input.shape[1]
    if not enforce_sorted and lengths.shape[0] > batch:
        # PyTorch's index_select by the sort of `lengths` fails; which index it names first
        # depends on the traced values
        raise RuntimeError(f"INDICES element is out of DATA bounds, axis_dim={batch}: "
                           f"{lengths.shape[0]} lengths for a batch of {batch}")
    if not enforce_sorted and lengths.shape[0] < batch:
        # NOTE: PyTorch selects the batch entries its sort of `lengths` names, which leaves
        # the entries past len(lengths) out: pack the first len(lengths) (eager does so too)
        input = input.narrow(1, 0, lengths.shape[0])
        batch = lengths.shape[0]
    if lengths.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.shape[0]} (batch_size={batch})")
    mask, flip = dispatch("packed_lengths", lengths, steps=steps, rule="pack",
                          enforce_sorted=bool(enforce_sorted))
    sorted_indices = None if enforce_sorted else lengths.argsort(descending=True, stable=True)
    return make(input, lengths, mask, flip, sorted_indices,
                invert_permutation(sorted_indices))


def pad_traced(sequence, batch_first: bool, padding_value: float, total_length):
    """pad_packed_sequence of a traced PackedSequence."""
    padded, lengths, pack_mask, _ = sequence.padded()
    steps = padded.shape[0]
    # NOTE: the mask is taken from this call's check AND from pack_padded_sequence's, so both
    # checks stay in the program (a node whose outputs nobody reads would be removed with its
    # check; pack -> pad with no RNN between would otherwise skip the packing checks).
    if total_length is None or total_length >= steps:
        rule, limit = ("pad_exact", 0) if total_length is None else ("pad_at_most", steps)
        mask, _ = dispatch("packed_lengths", lengths, steps=steps, rule=rule, limit=limit)
    else:
        mask, _ = dispatch("packed_lengths", lengths, steps=steps, rule="pad_at_most",
                           limit=int(total_length))
        padded, mask = padded[:total_length], mask[:total_length]
        pack_mask = pack_mask[:total_length]
    mask = mask & pack_mask
    if total_length is not None and total_length > steps:
        extra = total_length - steps
        padded = M.cat([padded, fac.zeros(extra, *padded.shape[1:], dtype=padded.dtype)])
        mask = M.cat([mask, fac.zeros(extra, mask.shape[1], dtype=mask.dtype)])
    keep = mask.reshape(*mask.shape, *([1] * (padded.dim() - 2)))
    fill = fac.full((), padding_value, dtype=padded.dtype)
    out = M.where(keep, padded, fill)
    return (out.transpose(0, 1) if batch_first else out), lengths
