"""RNN, GRU and LSTM against PyTorch: outputs, final states and every gradient, dynamic and
static; parameter names, reprs, init and input errors."""

import math

import numpy as np
import pytest
from parity import check_module, np_of, to_gn, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)
# NOTE: time, batch, input size, hidden size. I = 2 H makes layer 1 of a bidirectional stack
# take inputs of layer 0's shape, so the two share compiled kernels and the tests stay fast.
T, N, I, H = 5, 3, 8, 4  # noqa: E741


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def _flat_all(lib, output, state):
    """One tensor holding the output and every final state, so parity covers all of them."""
    states = state if isinstance(state, tuple) else (state,)
    return lib.cat([output.reshape(-1)] + [s.reshape(-1) for s in states])


def wrappers(name, input_size=I, **kwargs):
    """The same recurrent layer in torch and graphnet, wrapped so that forward(x, *initial)
    returns outputs and final states together. Parameter names: `rnn.weight_ih_l0` ..."""
    def make(lib_nn, lib):
        class Wrap(lib_nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(lib_nn, name)(input_size, H, **kwargs)

            def forward(self, x, *initial):
                hx = None if not initial else (tuple(initial) if name == "LSTM" else initial[0])
                return _flat_all(lib, *self.rnn(x, hx))
        return Wrap()
    return make(nn, graphnet), make(torch.nn, torch)


def inputs(name, num_layers, bidirectional, batch_first, with_state, batched=True,
           input_size=I):
    x = arr(N, T, input_size) if batch_first else arr(T, N, input_size)
    if not batched:
        x = arr(T, input_size)
    state_shape = (num_layers * (2 if bidirectional else 1),) + ((N,) if batched else ()) + (H,)
    states = [arr(*state_shape) for _ in range(2 if name == "LSTM" else 1)] if with_state else []
    return [x] + states


# Every layer type with 2 layers, both directions, batch_first and given initial states, checked
# dynamic and static. NOTE: each static check compiles a whole forward+backward program with
# four scans (~2 s of XLA time), so the variants further down (unbatched, long sequence) are
# checked in dynamic mode only; they run the same kernels as the cases here.
CONFIGS = {
    "rnn_tanh": ("RNN", dict(num_layers=2, bidirectional=True)),
    "gru_batch_first": ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    "lstm": ("LSTM", dict(num_layers=2, bidirectional=True)),
}


@pytest.mark.parametrize("case", CONFIGS)
def test_parity_with_initial_states(case):
    name, kwargs = CONFIGS[case]
    gn_layer, torch_layer = wrappers(name, **kwargs)
    x_and_states = inputs(name, kwargs["num_layers"], kwargs["bidirectional"],
                          kwargs.get("batch_first", False), with_state=True)
    check_module(gn_layer, torch_layer, x_and_states)


def test_parity_relu_rnn_no_bias_default_state():
    gn_layer, torch_layer = wrappers("RNN", num_layers=2, nonlinearity="relu",
                                     batch_first=True, bias=False)
    check_module(gn_layer, torch_layer, inputs("RNN", 2, False, True, with_state=False))


def test_parity_unbatched_lstm_dynamic():
    gn_layer, torch_layer = wrappers("LSTM", bidirectional=True)
    check_module(gn_layer, torch_layer, inputs("LSTM", 1, True, False, with_state=True,
                                               batched=False), static=False)


def test_long_sequence_lstm_dynamic():
    # NOTE: 40 steps of float32 recurrence round differently from PyTorch's kernels, so this
    # uses the 1e-4 tolerance for long recurrences.
    gn_layer, torch_layer = wrappers("LSTM")
    check_module(gn_layer, torch_layer, [arr(40, N, I)], atol=1e-4, rtol=1e-4, static=False)


def test_returns_pytorch_structure():
    lstm = nn.LSTM(I, H, bidirectional=True)
    out, (h_n, c_n) = lstm(graphnet.randn(T, I))  # unbatched
    assert tuple(out.shape) == (T, 2 * H)
    assert tuple(h_n.shape) == tuple(c_n.shape) == (2, H)
    gru = nn.GRU(I, H, num_layers=2, bidirectional=True, batch_first=True)
    out, h_n = gru(graphnet.randn(N, T, I))
    assert tuple(out.shape) == (N, T, 2 * H) and tuple(h_n.shape) == (4, N, H)


# NOTE: sizes (I, H) reuse the parameter shapes of the parity tests; every new parameter shape
# costs a few XLA compiles of the random init.
@pytest.mark.parametrize("name,kwargs", [
    ("LSTM", dict(num_layers=2, batch_first=True)),
    ("RNN", dict(nonlinearity="relu", bias=False, dropout=0.5, num_layers=2, bidirectional=True)),
    ("GRU", dict(bidirectional=True)),
    ("LSTM", dict(dropout=0.25, num_layers=2, bidirectional=True, batch_first=True)),
])
def test_repr_and_state_dict_keys(name, kwargs):
    ours, theirs = getattr(nn, name)(I, H, **kwargs), getattr(torch.nn, name)(I, H, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(p.shape) for p in ours.parameters()] == \
        [tuple(p.shape) for p in theirs.parameters()]


def test_repr_literal():
    assert repr(nn.LSTM(I, H, num_layers=2, batch_first=True)) == \
        "LSTM(8, 4, num_layers=2, batch_first=True)"


def test_init_range():
    bound = 1 / math.sqrt(H)
    for p in nn.GRU(I, H, num_layers=2, bidirectional=True).parameters():
        values = np_of(p)
        assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 4


def test_dropout_between_layers():
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True, dropout=0.5)
    x = graphnet.randn(T, N, I)
    lstm.eval()
    reference = np_of(lstm(x)[0])
    lstm.train()
    graphnet.manual_seed(1)
    first = np_of(lstm(x)[0])
    graphnet.manual_seed(1)
    again = np_of(lstm(x)[0])
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, reference)


def test_one_op_per_layer_and_direction():
    lstm = nn.LSTM(I, H, num_layers=2, bidirectional=True)
    graph = graphnet.trace_graph(lambda x: lstm(x)[0], graphnet.randn(T, N, I))
    assert str(graph).count("lstm_layer(") == 4


def test_wrong_feature_size_names_module_and_shapes():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(I, H, batch_first=True, bidirectional=True)

        def forward(self, x):
            return self.encoder(x)[0]

    with pytest.raises(graphnet.ShapeError) as info:
        Model()(graphnet.randn(2, 5, 7))
    message = str(info.value)
    assert "encoder (LSTM)" in message and "[2, 5, 7]" in message and f"[N, L, {I}]" in message


def test_wrong_initial_state_shape():
    gru = nn.GRU(I, H, num_layers=2, bidirectional=True)
    with pytest.raises(graphnet.ShapeError, match=r"h_0 of shape \[4, 3, 4\].*got \[2, 3, 4\]"):
        gru(to_gn(arr(T, N, I)), to_gn(arr(2, N, H)))
    lstm = nn.LSTM(I, H, bidirectional=True)
    with pytest.raises(TypeError, match="tuple"):
        lstm(to_gn(arr(T, N, I)), to_gn(arr(2, N, H)))
    with pytest.raises(ValueError, match="dtype"):
        lstm(to_gn(arr(T, N, I).astype(np.float64)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(I, H, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(I, H, proj_size=H)   # proj_size itself: tests/test_packed_lstm_proj.py
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(I, H, dropout=0.5, bidirectional=True)


def _rnn_introspection(L) -> list:
    L.manual_seed(0)
    seen = []
    for cls, kw in ((L.nn.LSTM, dict(num_layers=2, bidirectional=True, proj_size=3)),
                    (L.nn.GRU, dict(bias=False)), (L.nn.RNN, {})):
        m = cls(4, 5, **kw)
        assert m.flatten_parameters() is None
        x = L.zeros(7, 2, 4)
        expected = m.get_expected_hidden_size(x, None)
        h = L.zeros(*expected)
        hidden = (h, L.zeros(expected[0], expected[1], 5)) if cls.__name__ == "LSTM" else h
        m.check_forward_args(x, hidden, None)
        bad = (L.zeros(1, 1, 1), h) if cls.__name__ == "LSTM" else L.zeros(1, 1, 1)
        try:
            m.check_forward_args(x, bad, None)
            error = None
        except RuntimeError as e:
            error = str(e)
        swapped = m.permute_hidden(hidden, L.tensor([1, 0]))
        seen += [m._flat_weights_names, [list(w.shape) for w in m._flat_weights],
                 [[list(p.shape) for p in ws] for ws in m.all_weights], expected, error,
                 type(swapped).__name__]
    return seen


def test_rnn_introspection_methods_match_torch():
    assert _rnn_introspection(graphnet) == _rnn_introspection(torch)
