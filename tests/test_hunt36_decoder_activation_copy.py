"""A TransformerDecoderLayer built with a Module activation (nn.Tanh(), nn.GELU()) runs
F.relu once copied in PyTorch: its `__setstate__` puts relu in the copy's `__dict__`, which
hides the Module (every layer nn.TransformerDecoder and nn.Transformer clone is such a copy).
graphnet kept the Module, so weights copied from torch gave other numbers (up to 1.37 apart
with Tanh), eagerly and compiled. Found by the built-in transformer hunt."""

import copy

import numpy as np
import pytest
import torch

import graphnet


def _pair(activation):
    torch.manual_seed(0)
    tm = torch.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True,
                              activation=activation(torch))
    gm = graphnet.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True,
                                 activation=activation(graphnet))
    gm.load_state_dict({k: graphnet.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


ACTIVATIONS = {"tanh": lambda L: L.nn.Tanh(), "gelu": lambda L: L.nn.GELU(),
               "gelu_string": lambda L: "gelu"}


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_a_transformer_gives_torch_s_numbers(name, compiled):
    tm, gm = _pair(ACTIVATIONS[name])
    rng = np.random.default_rng(0)
    src, tgt = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 4, 8))
    want = tm(torch.tensor(src, dtype=torch.float32),
              torch.tensor(tgt, dtype=torch.float32)).detach().numpy()
    fn = graphnet.compile(lambda a, b: gm(a, b)) if compiled else gm
    got = fn(graphnet.tensor(src, dtype=graphnet.float32),
             graphnet.tensor(tgt, dtype=graphnet.float32)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_copied_decoder_layer_runs_relu_and_shows_its_module():
    for L in (torch, graphnet):
        layer = L.nn.TransformerDecoderLayer(8, 2, 16, activation=L.nn.Tanh())
        clone = copy.deepcopy(layer)
        assert isinstance(layer.activation, L.nn.Tanh)
        assert clone.activation is L.nn.functional.relu
        assert "Tanh()" in repr(clone)
        encoder = copy.deepcopy(L.nn.TransformerEncoderLayer(8, 2, 16, activation=L.nn.Tanh()))
        assert isinstance(encoder.activation, L.nn.Tanh)
