"""The fused inference path of PyTorch's TransformerEncoderLayer, MultiheadAttention and
TransformerEncoder, against torch 2.13: its exact GELU for any nn.GELU (approximate='tanh'
too, which graphnet ran as tanh GELU), and `backends.mha.set_fastpath_enabled(False)`,
which sends every call down the ordinary path (zeros, not NaN, for a fully masked query;
no zeroed padding in the encoder's output). Eager and compiled."""

import functools

import numpy as np
import pytest
import torch

import graphnet as G

E, HEADS, FF = 8, 2, 16
X = (np.random.RandomState(0).randn(2, 4, E) * 3).astype(np.float32)
PAD = np.array([[False, False, True, True], [False, True, True, True]])
MASK = np.zeros((4, 4), bool)
MASK[1, :] = True   # query 1 may attend to nothing


@pytest.fixture(autouse=True)
def _fastpath_restored():
    yield
    torch.backends.mha.set_fastpath_enabled(True)
    G.backends.mha.set_fastpath_enabled(True)


def _layers(act_torch, act_graphnet, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, activation=act_torch,
                                              batch_first=True, **kw).eval()
    ours = G.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, activation=act_graphnet,
                                        batch_first=True, **kw).eval()
    ours.load_state_dict({k: G.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    return ours, theirs


def _run(module, lib, compiled=False, **masks):
    args = {k: lib.tensor(v) for k, v in masks.items()}
    call = (lambda x: module(x, **args))
    call = G.compile(call) if compiled else call
    with lib.no_grad():
        return call(lib.tensor(X)).numpy()


GELUS = {
    "GELU_tanh": (lambda: torch.nn.GELU(approximate="tanh"),
                  lambda: G.nn.GELU(approximate="tanh")),
    "GELU": (torch.nn.GELU, G.nn.GELU),
    "partial_tanh": (lambda: functools.partial(torch.nn.functional.gelu, approximate="tanh"),
                     lambda: functools.partial(G.nn.functional.gelu, approximate="tanh")),
    "string_gelu": (lambda: "gelu", lambda: "gelu"),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("fastpath", [True, False])
@pytest.mark.parametrize("act", list(GELUS))
def test_encoder_layer_gelu_matches_torch(act, fastpath, norm_first, compiled):
    make_torch, make_ours = GELUS[act]
    ours, theirs = _layers(make_torch(), make_ours(), norm_first=norm_first)
    torch.backends.mha.set_fastpath_enabled(fastpath)
    G.backends.mha.set_fastpath_enabled(fastpath)
    np.testing.assert_allclose(_run(ours, G, compiled), _run(theirs, torch), rtol=1e-5,
                               atol=2e-6)


def test_tanh_gelu_still_runs_as_tanh_when_training():
    ours, theirs = _layers(torch.nn.GELU(approximate="tanh"), G.nn.GELU(approximate="tanh"))
    ours.train(), theirs.train()
    np.testing.assert_allclose(_run(ours, G), _run(theirs, torch), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("fastpath", [True, False])
def test_fastpath_switch_decides_nan_rows_like_torch(fastpath, compiled):
    ours, theirs = _layers("relu", "relu")
    torch.backends.mha.set_fastpath_enabled(fastpath)
    G.backends.mha.set_fastpath_enabled(fastpath)
    want = _run(theirs, torch, src_mask=MASK)
    assert np.isnan(want).any() == fastpath
    np.testing.assert_allclose(_run(ours, G, compiled, src_mask=MASK), want, rtol=1e-5,
                               atol=2e-6)
    attn_ours, attn_theirs = ours.self_attn, theirs.self_attn
    with torch.no_grad(), G.no_grad():
        x_t, x_g = torch.tensor(X), G.tensor(X)
        want = attn_theirs(x_t, x_t, x_t, attn_mask=torch.tensor(MASK), need_weights=False)[0]
        got = attn_ours(x_g, x_g, x_g, attn_mask=G.tensor(MASK), need_weights=False)[0]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=2e-6)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.parametrize("fastpath", [True, False])
def test_fastpath_switch_decides_the_encoders_padding_zeros(fastpath):
    ours, theirs = _layers("relu", "relu")
    enc_theirs = torch.nn.TransformerEncoder(theirs, 2)
    enc_ours = G.nn.TransformerEncoder(ours, 2)
    torch.backends.mha.set_fastpath_enabled(fastpath)
    G.backends.mha.set_fastpath_enabled(fastpath)
    want = _run(enc_theirs, torch, src_key_padding_mask=PAD)
    assert (want[1, 3] == 0).all() == fastpath
    np.testing.assert_allclose(_run(enc_ours, G, src_key_padding_mask=PAD), want, rtol=1e-5,
                               atol=2e-6)


def test_a_compiled_layer_follows_the_switch_between_calls():
    ours, _ = _layers("relu", "relu")
    mask = G.tensor(MASK)
    f = G.compile(lambda x: ours(x, src_mask=mask))
    with G.no_grad():
        assert np.isnan(f(G.tensor(X)).numpy()).any()
        G.backends.mha.set_fastpath_enabled(False)
        assert not np.isnan(f(G.tensor(X)).numpy()).any()
        G.backends.mha.set_fastpath_enabled(True)
        assert np.isnan(f(G.tensor(X)).numpy()).any()


def test_fastpath_getter_and_setter_like_torch():
    for lib in (torch, G):
        assert lib.backends.mha.get_fastpath_enabled() is True
        lib.backends.mha.set_fastpath_enabled(False)
        assert lib.backends.mha.get_fastpath_enabled() is False
    import graphnet.backends.mha as mha   # importable as a module, as in torch
    assert mha.get_fastpath_enabled is G.backends.mha.get_fastpath_enabled
