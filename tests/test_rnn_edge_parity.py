"""Recurrent layers and packed sequences at their edges, against PyTorch, eager and compiled:
the length checks of pack -> pad inside a compiled function, initial states of another dtype,
zero-length sequences, empty packs, hx of the wrong rank, and unpack_sequence compiled."""

import re

import numpy as np
import pytest
from parity import assert_close, np_of, to_gn, torch

import graphnet
from graphnet import nn
from graphnet.nn.utils import rnn as gn_rnn

trnn = torch.nn.utils.rnn
rng = np.random.default_rng(7)
T, N, I, H = 5, 3, 4, 3  # noqa: E741


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def torch_error(fn):
    with pytest.raises(Exception) as err:
        fn()
    return err.value


def raises_like(expected: Exception, fn):
    """fn() raises expected's type with expected's message (the first line of ours)."""
    with pytest.raises(type(expected)) as err:
        fn()
    assert str(err.value).splitlines()[0].startswith(str(expected)), (str(err.value),
                                                                       str(expected))


# -- 1. pack_padded_sequence -> pad_packed_sequence with traced lengths keeps the checks ----

def pack_pad(lib, x, lengths, enforce_sorted=True, total_length=None):
    utils = lib.nn.utils.rnn
    packed = utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    return utils.pad_packed_sequence(packed, total_length=total_length, padding_value=9.0)[0]


@pytest.mark.parametrize("lengths,enforce_sorted", [
    ([3, 5, 2], True),     # not sorted
    ([5, 2, 0], True),     # a zero length
    ([5, 0, 2], False),    # a zero length, sorted by the call
])
def test_compiled_pack_then_pad_checks_lengths_like_torch(lengths, enforce_sorted):
    x = arr(T, N, I)
    expected = torch_error(lambda: pack_pad(torch, torch.from_numpy(x), torch.tensor(lengths),
                                            enforce_sorted, T))
    assert isinstance(expected, RuntimeError)
    compiled = graphnet.compile(lambda a, n: pack_pad(graphnet, a, n, enforce_sorted, T))
    raises_like(expected, lambda: compiled(to_gn(x), graphnet.tensor(lengths)))
    raises_like(expected, lambda: pack_pad(graphnet, to_gn(x), lengths, enforce_sorted, T))


def test_compiled_pack_then_pad_refuses_a_length_past_the_input():
    # NOTE: PyTorch reads past the end here ("shape '[4, 1, 4]' is invalid ..."); graphnet
    # refuses with the same error type, eagerly and compiled.
    x = arr(T, N, I)
    assert isinstance(torch_error(lambda: pack_pad(torch, torch.from_numpy(x),
                                                   torch.tensor([6, 2, 1]), True, 6)),
                      RuntimeError)
    compiled = graphnet.compile(lambda a, n: pack_pad(graphnet, a, n, True, 6))
    for call in (lambda: compiled(to_gn(x), graphnet.tensor([6, 2, 1])),
                 lambda: pack_pad(graphnet, to_gn(x), [6, 2, 1], True, 6)):
        with pytest.raises(RuntimeError, match="longest length \\(6\\) exceeds"):
            call()


@pytest.mark.parametrize("lengths,total_length", [([3, 2, 1], 4), ([5, 2, 1], 5),
                                                  ([4, 2, 1], 7)])
def test_compiled_pack_then_pad_values(lengths, total_length):
    x = arr(T, N, I)
    compiled = graphnet.compile(lambda a, n: pack_pad(graphnet, a, n, True, total_length))
    expected = pack_pad(torch, torch.from_numpy(x), lengths, True, total_length)
    assert_close(compiled(to_gn(x), graphnet.tensor(lengths)), expected, 0, 0)


# -- 2. an initial state of another dtype than the weights ---------------------------------

def layer_and_inputs(lib, name, layout, state_dtype):
    """A fresh lib.nn.<name>(I, H), float32 input and initial states, one in `state_dtype`."""
    rnn = getattr(lib.nn, name)(I, H)
    x = lib.zeros(T, N, I)
    state_shape = (1, N, H)
    if layout == "unbatched":
        x, state_shape = x[:, 0], (1, H)
    odd, same = lib.zeros(state_shape, dtype=state_dtype), lib.zeros(state_shape)
    return rnn, [x, odd] + ([same] if name == "LSTM" else [])


def run_layer(lib, rnn, layout, x, *states):
    if layout == "packed":
        x = lib.nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2])
    return rnn(x, tuple(states) if len(states) == 2 else states[0])


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("layout", ["batched", "unbatched", "packed"])
@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_state_of_another_dtype_raises_like_torch(name, layout, compiled):
    rnn, inputs = layer_and_inputs(torch, name, layout, torch.float64)
    # NOTE: PyTorch's oneDNN LSTM says "get_mkldnn_dtype: unsupported data type" for some
    # layouts; the other kernels say what graphnet says.
    assert isinstance(torch_error(lambda: run_layer(torch, rnn, layout, *inputs)), RuntimeError)
    rnn, inputs = layer_and_inputs(graphnet, name, layout, graphnet.float64)
    fn = graphnet.compile(lambda *xs: run_layer(graphnet, rnn, layout, *xs)) if compiled else \
        (lambda *xs: run_layer(graphnet, rnn, layout, *xs))
    with pytest.raises(RuntimeError, match=re.escape(
            "mat1 and mat2 must have the same dtype, but got Double and Float")):
        fn(*inputs)


def test_half_state_and_double_cell_state():
    for lib, dtype in ((torch, torch.float16), (graphnet, graphnet.float16)):
        with pytest.raises(RuntimeError, match="but got Half and Float"):
            lib.nn.GRU(I, H)(lib.zeros(T, N, I), lib.zeros(1, N, H, dtype=dtype))
    lstm = torch.nn.LSTM(I, H)
    packed = trnn.pack_padded_sequence(torch.zeros(T, N, I), [5, 3, 2])
    with pytest.raises(RuntimeError, match="but got Double and Float"):
        lstm(packed, (torch.zeros(1, N, H), torch.zeros(1, N, H).double()))
    lstm = nn.LSTM(I, H)
    for x in (graphnet.zeros(T, N, I), gn_rnn.pack_padded_sequence(graphnet.zeros(T, N, I),
                                                                    [5, 3, 2])):
        with pytest.raises(RuntimeError, match="but got Double and Float"):
            lstm(x, (graphnet.zeros(1, N, H), graphnet.zeros(1, N, H).double()))


# -- 3. zero-length sequences ----------------------------------------------------------------

@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("shape,batch_first", [((0, N, I), False), ((0, I), False),
                                               ((N, 0, I), True)])
def test_zero_length_sequence_raises_like_torch(name, shape, batch_first, compiled):
    expected = torch_error(lambda: getattr(torch.nn, name)(I, H, batch_first=batch_first)(
        torch.zeros(shape)))
    layer = getattr(nn, name)(I, H, batch_first=batch_first)
    fn = graphnet.compile(layer) if compiled else layer
    raises_like(expected, lambda: fn(graphnet.zeros(shape)))


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_empty_batch_still_runs_like_torch(name):
    theirs = getattr(torch.nn, name)(I, H)(torch.zeros(T, 0, I))
    ours = getattr(nn, name)(I, H)(graphnet.zeros(T, 0, I))
    flat = [theirs[0]] + list(theirs[1] if name == "LSTM" else [theirs[1]])
    got = [ours[0]] + list(ours[1] if name == "LSTM" else [ours[1]])
    assert [tuple(g.shape) for g in got] == [tuple(f.shape) for f in flat]


def test_zero_packed_length_and_empty_pack_raise_like_torch():
    for lengths, make in (([5, 0], lambda lib: lib.zeros(T, 2, I)),
                          ([0, 0], lambda lib: lib.zeros(0, 2, I))):
        expected = torch_error(lambda: trnn.pack_padded_sequence(make(torch), lengths))
        raises_like(expected, lambda: gn_rnn.pack_padded_sequence(make(graphnet), lengths))
    expected = torch_error(lambda: trnn.pack_sequence([torch.zeros(0, I)]))
    raises_like(expected, lambda: gn_rnn.pack_sequence([graphnet.zeros(0, I)]))
    compiled = graphnet.compile(lambda a, n: gn_rnn.pack_padded_sequence(a, n))
    with pytest.raises(RuntimeError, match="Cannot pack empty tensors."):
        compiled(graphnet.zeros(0, 2, I), graphnet.tensor([0, 0]))


# -- hx of the wrong rank: PyTorch's words ---------------------------------------------------

@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_state_of_the_wrong_rank_says_what_torch_says(name):
    for x_shape, h_shape in (((T, N, I), (N, H)), ((T, I), (1, 1, H))):
        def call(lib):
            h = lib.zeros(h_shape)
            return getattr(lib.nn, name)(I, H)(lib.zeros(x_shape), (h, h) if name == "LSTM" else h)
        expected = torch_error(lambda: call(torch))
        head = str(expected).split(" should")[0].replace("hx and cx", "hx")
        with pytest.raises(RuntimeError, match=re.escape(head + " should also be")):
            call(graphnet)


# -- unpack_sequence inside a compiled function ----------------------------------------------

def test_unpack_sequence_compiled_matches_torch():
    seqs = [arr(2, I), arr(4, I), arr(1, I)]

    def run(lib, a, b, c):
        utils = lib.nn.utils.rnn
        packed = utils.pack_sequence([a, b, c], enforce_sorted=False)
        padded, lengths = utils.pad_packed_sequence(packed, batch_first=True)
        return [*utils.unpack_sequence(packed), padded, lengths, packed.unsorted_indices]

    expected = run(torch, *map(torch.from_numpy, seqs))
    got = graphnet.compile(lambda *xs: run(graphnet, *xs))(*map(to_gn, seqs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == (graphnet.int64 if e.dtype == torch.int64 else graphnet.float32)
        np.testing.assert_array_equal(np_of(g), np_of(e))
