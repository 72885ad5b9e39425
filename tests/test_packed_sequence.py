"""nn.utils.rnn against PyTorch: packing, padding and recurrent layers over a PackedSequence,
values and gradients, dynamic and static; PyTorch's errors; the static-mode refusal of
lengths a trace does not know."""

import numpy as np
import pytest
from parity import assert_close, check_module, np_of, to_gn, torch

import graphnet
from graphnet import nn
from graphnet.nn.utils import rnn as gn_rnn

trnn = torch.nn.utils.rnn
rng = np.random.default_rng(0)
T, N, I, H = 5, 3, 4, 3  # noqa: E741


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def both(make):
    """make(lib) -> the same parameterless module in graphnet and torch."""
    return make(graphnet), make(torch)


def pack_pad_module(lengths, batch_first, enforce_sorted, total_length=None, padding=0.0):
    def make(lib):
        utils = lib.nn.utils.rnn

        class PackPad(lib.nn.Module):
            def forward(self, x):
                packed = utils.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
                padded, lens = utils.pad_packed_sequence(packed, batch_first, padding,
                                                         total_length)
                return lib.cat([packed.data.reshape(-1) * 2, padded.reshape(-1),
                                lens.to(x.dtype)])
        return PackPad()
    return make


@pytest.mark.parametrize("lengths,batch_first,enforce_sorted,total_length", [
    ([5, 3, 2], False, True, None),
    ([2, 5, 2], True, False, 7),
    ([1, 1, 4], False, False, None),
])
def test_pack_then_pad_matches_torch(lengths, batch_first, enforce_sorted, total_length):
    x = arr(N, T, I) if batch_first else arr(T, N, I)
    ours, theirs = both(pack_pad_module(lengths, batch_first, enforce_sorted, total_length,
                                        padding=-1.5))
    check_module(ours, theirs, [x], copy=False)


def test_packed_sequence_fields_and_indices():
    x = arr(T, N, I)
    ours = gn_rnn.pack_padded_sequence(to_gn(x), [3, 5, 3], enforce_sorted=False)
    theirs = trnn.pack_padded_sequence(torch.from_numpy(x), [3, 5, 3], enforce_sorted=False)
    assert isinstance(ours, tuple) and ours._fields == theirs._fields
    for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == graphnet.int64 and a.tolist() == b.tolist(), name
    assert_close(ours.data, theirs.data)
    assert repr(gn_rnn.pack_sequence([graphnet.ones(2), graphnet.ones(1)])) == \
        repr(trnn.pack_sequence([torch.ones(2), torch.ones(1)]))
    assert ours.double().data.dtype == graphnet.float64 and ours.to(graphnet.float32) is ours
    assert ours.to(graphnet.float16).sorted_indices is ours.sorted_indices


def test_invert_permutation():
    perm = [3, 0, 2, 1]
    assert gn_rnn.invert_permutation(graphnet.tensor(perm)).tolist() == \
        trnn.invert_permutation(torch.tensor(perm)).tolist()
    assert gn_rnn.invert_permutation(None) is None


@pytest.mark.parametrize("batch_first,padding_side,padding_value", [
    (False, "right", 0.0), (True, "left", -2.0), (True, "right", 7)])
def test_pad_sequence_matches_torch(batch_first, padding_side, padding_value):
    shapes = [(3, 2), (5, 2), (1, 1)]   # the last one broadcasts to [1, 2], as in PyTorch
    seqs = [arr(*s) for s in shapes]
    t_in = [torch.tensor(s, requires_grad=True) for s in seqs]
    g_in = [to_gn(s, requires_grad=True) for s in seqs]
    expected = trnn.pad_sequence(t_in, batch_first, padding_value, padding_side)
    got = gn_rnn.pad_sequence(g_in, batch_first, padding_value, padding_side)
    assert_close(got, expected)
    weights = arr(*expected.shape)
    (expected * torch.from_numpy(weights)).sum().backward()
    (got * graphnet.tensor(weights)).sum().backward()
    for g, t in zip(g_in, t_in):
        assert_close(g.grad, t.grad)


def test_pad_sequence_dtypes_tensor_input_and_static():
    ints = [graphnet.tensor([1, 2, 3]), graphnet.tensor([4])]
    out = gn_rnn.pad_sequence(ints, padding_value=9.7)
    assert out.dtype == graphnet.int64
    assert out.tolist() == trnn.pad_sequence([torch.tensor([1, 2, 3]), torch.tensor([4])],
                                             padding_value=9.7).tolist()
    mixed = gn_rnn.pad_sequence([graphnet.ones(2), graphnet.ones(1, dtype=graphnet.float64)])
    assert mixed.dtype == graphnet.float32
    stacked = arr(3, 2)
    assert_close(gn_rnn.pad_sequence(to_gn(stacked)), trnn.pad_sequence(torch.tensor(stacked)))
    seqs = [arr(4, 2), arr(2, 2)]
    compiled = graphnet.compile(lambda a, b: gn_rnn.pad_sequence([a, b], batch_first=True))
    assert_close(compiled(*map(to_gn, seqs)),
                 trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True))


def test_unpad_unpack_and_pack_sequence():
    seqs = [arr(2, 3), arr(4, 3), arr(1, 3)]
    for packed in (gn_rnn.pack_sequence([to_gn(s) for s in seqs], enforce_sorted=False),):
        for got, s in zip(gn_rnn.unpack_sequence(packed), seqs):
            np.testing.assert_array_equal(np_of(got), s)
    padded = gn_rnn.pad_sequence([to_gn(s) for s in seqs])       # [T, B, 3]
    pieces = gn_rnn.unpad_sequence(padded, graphnet.tensor([2, 4, 1]))
    assert [tuple(p.shape) for p in pieces] == [(2, 3), (4, 3), (1, 3)]
    assert tuple(padded.shape) == (3, 4, 3)   # transposed in place, as PyTorch does
    for got, s in zip(pieces, seqs):
        np.testing.assert_array_equal(np_of(got), s)


@pytest.mark.parametrize("call", [
    lambda T_, U, x: U.pack_padded_sequence(x, [2, 3, 1]),
    lambda T_, U, x: U.pack_padded_sequence(x, [3, 2]),
    lambda T_, U, x: U.pack_padded_sequence(x, [3, 2, 0]),
    lambda T_, U, x: U.pack_padded_sequence(x, [3, 0, 2], enforce_sorted=False),
    lambda T_, U, x: U.pack_padded_sequence(x, [[3, 2, 1]]),
    lambda T_, U, x: U.pad_packed_sequence(U.pack_padded_sequence(x, [4, 2, 1]),
                                           total_length=3),
    lambda T_, U, x: U.pad_sequence([]),
    lambda T_, U, x: U.pad_sequence(3),
    lambda T_, U, x: U.pad_sequence([x[0], x[1]], padding_side="middle"),
    lambda T_, U, x: U.pad_sequence([x[0], x[1, :, :2]]),
])
def test_errors_match_torch(call):
    x = arr(T, N, I)
    with pytest.raises(Exception) as theirs:
        call(torch, trnn, torch.tensor(x))
    with pytest.raises(type(theirs.value)) as ours:
        call(graphnet, gn_rnn, to_gn(x))
    assert str(ours.value) == str(theirs.value)


def test_lengths_longer_than_input_refused():
    # NOTE: PyTorch reads past the end of the input here (undefined values); graphnet raises.
    with pytest.raises(RuntimeError, match="exceeds the padded input's 5 time steps"):
        gn_rnn.pack_padded_sequence(graphnet.zeros(T, N, I), [6, 2, 1])


def test_static_mode_with_list_lengths_is_exact():
    lstm = nn.LSTM(I, H)

    def run(x, lengths):
        out, _ = lstm(gn_rnn.pack_padded_sequence(x, lengths, enforce_sorted=False))
        return out.data, gn_rnn.pad_packed_sequence(out)[0]

    x = graphnet.randn(T, N, I)
    for got, expected in zip(graphnet.compile(run)(x, [5, 2, 3]), run(x, [5, 2, 3])):
        assert_close(got, expected)


def traced_lengths_module(name, batch_first, enforce_sorted, total_length=None, **kwargs):
    """forward(x, lengths, *initial): lengths is a tensor argument, so a compiled call only
    has it as a traced value (the padded, masked form)."""
    def make(lib):
        utils = lib.nn.utils.rnn

        class Wrap(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(lib.nn, name)(I, H, batch_first=batch_first, **kwargs)

            def forward(self, x, lengths, *initial):
                hx = None if not initial else (tuple(initial) if name == "LSTM" else initial[0])
                packed = utils.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
                out, state = self.rnn(packed, hx)
                padded, lens = utils.pad_packed_sequence(out, batch_first, -1.0, total_length)
                states = state if isinstance(state, tuple) else (state,)
                return lib.cat([padded.reshape(-1), lens.to(x.dtype)]
                               + [s.reshape(-1) for s in states])
        return Wrap()
    return make(graphnet), make(torch)


@pytest.mark.parametrize("name,lengths,batch_first,enforce_sorted,total_length,kwargs", [
    ("LSTM", [2, 5, 3], True, False, None, dict(num_layers=2, bidirectional=True)),
    ("GRU", [5, 4, 1], False, True, 7, dict(bidirectional=True)),
])
def test_traced_lengths_match_torch(name, lengths, batch_first, enforce_sorted, total_length,
                                    kwargs):
    ours, theirs = traced_lengths_module(name, batch_first, enforce_sorted, total_length,
                                         **kwargs)
    x = arr(N, T, I) if batch_first else arr(T, N, I)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    states = [arr(layers, N, H) for _ in range(2 if name == "LSTM" else 1)]
    check_module(ours, theirs, [x, np.array(lengths, np.int64)] + states)


def test_traced_lengths_errors_after_the_call():
    lstm = nn.LSTM(I, H)

    def run(x, lengths, enforce_sorted=True, total_length=None):
        packed = gn_rnn.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        return gn_rnn.pad_packed_sequence(lstm(packed)[0], total_length=total_length)[0]

    compiled = graphnet.compile(run)
    x = graphnet.randn(T, N, I)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        compiled(x, graphnet.tensor([3, 5, 2]))
    with pytest.raises(RuntimeError, match="has to be greater than 0"):
        compiled(x, graphnet.tensor([3, 0, 5]), False)
    with pytest.raises(RuntimeError, match="exceeds the padded input's 5 time steps"):
        compiled(x, graphnet.tensor([6, 2, 1]))
    with pytest.raises(graphnet.TraceError, match="Pass total_length=5"):
        compiled(x, graphnet.tensor([4, 2, 1]))
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        compiled(x, graphnet.tensor([4, 2, 1]), True, 3)
    assert_close(compiled(x, graphnet.tensor([4, 2, 1]), True, 4), run(x, [4, 2, 1], True, 4))
    with pytest.raises(graphnet.TraceError, match="Pass the lengths as a Python list"):
        graphnet.compile(lambda a, n: gn_rnn.pack_padded_sequence(a, n).data)(
            x, graphnet.tensor([5, 2, 1]))


def rnn_wrappers(name, lengths, batch_first, enforce_sorted, **kwargs):
    """forward(x, *initial) packs x, runs the layer, and returns the padded output and
    every final state as one flat tensor."""
    def make(lib):
        utils = lib.nn.utils.rnn

        class Wrap(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(lib.nn, name)(I, H, batch_first=batch_first, **kwargs)

            def forward(self, x, *initial):
                hx = None if not initial else (tuple(initial) if name == "LSTM" else initial[0])
                packed = utils.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
                out, state = self.rnn(packed, hx)
                assert isinstance(out, utils.PackedSequence)
                padded, _ = utils.pad_packed_sequence(out, batch_first)
                states = state if isinstance(state, tuple) else (state,)
                return lib.cat([out.data.reshape(-1), padded.reshape(-1)]
                               + [s.reshape(-1) for s in states])
        return Wrap()
    return make(graphnet), make(torch)


@pytest.mark.parametrize("name,lengths,batch_first,enforce_sorted,kwargs,with_state", [
    ("LSTM", [2, 5, 3], False, False, dict(num_layers=2, bidirectional=True), True),
    ("GRU", [5, 4, 1], True, True, dict(bidirectional=True), True),
    ("RNN", [3, 1, 5], True, False, dict(num_layers=2, nonlinearity="relu"), False),
])
def test_recurrent_layers_on_packed_input(name, lengths, batch_first, enforce_sorted, kwargs,
                                          with_state):
    ours, theirs = rnn_wrappers(name, lengths, batch_first, enforce_sorted, **kwargs)
    x = arr(N, T, I) if batch_first else arr(T, N, I)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    states = [arr(layers, N, H) for _ in range(2 if name == "LSTM" else 1)] if with_state \
        else []
    check_module(ours, theirs, [x] + states)


def test_packed_input_errors():
    lstm = nn.LSTM(I, H)
    packed = gn_rnn.pack_padded_sequence(graphnet.zeros(T, N, I), [5, 3, 2])
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 3, 3\), got"):
        lstm(packed, (graphnet.zeros(1, 2, H), graphnet.zeros(1, 2, H)))
    bad = gn_rnn.PackedSequence(graphnet.zeros(10, I + 1), packed.batch_sizes)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        lstm(bad)


def test_packed_sequence_made_outside_a_compiled_function_is_refused():
    lstm = nn.LSTM(I, H)
    packed = gn_rnn.pack_padded_sequence(graphnet.randn(T, N, I), [5, 3, 2])
    with pytest.raises(graphnet.TraceError, match="pack there"):
        graphnet.compile(lambda p: lstm(p)[1][0])(packed)
