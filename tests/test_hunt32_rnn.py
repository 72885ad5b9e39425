"""Recurrent layers as torch's (thirty-second session's time-series hunt): padding that holds
NaN made every weight's gradient NaN in a compiled step with tensor lengths, and setting
`RNN.nonlinearity` after construction changed the activation, which torch's does not."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _copied(module, reference):
    module.load_state_dict({k: gn.from_numpy(v.detach().numpy().copy())
                            for k, v in reference.state_dict().items()})
    return module


@pytest.mark.parametrize("kind", ["GRU", "LSTM", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_nan_padding_leaves_packed_gradients_finite(kind, bidirectional):
    x = np.random.default_rng(0).standard_normal((2, 3, 1)).astype(np.float32)
    x[1, 2:] = np.nan   # lengths [3, 2]: the padding is NaN
    tm = getattr(torch.nn, kind)(1, 2, batch_first=True, bidirectional=bidirectional)
    gm = _copied(getattr(gn.nn, kind)(1, 2, batch_first=True, bidirectional=bidirectional), tm)

    def loss(lib, m, x, lengths):
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True)
        out, _ = lib.nn.utils.rnn.pad_packed_sequence(m(packed)[0], batch_first=True)
        return out.sum()

    tx = torch.from_numpy(x).requires_grad_()
    loss(torch, tm, tx, torch.tensor([3, 2])).backward()
    gx = gn.from_numpy(x).requires_grad_()
    gn.compile(lambda x, n: loss(gn, gm, x, n))(gx, gn.tensor([3, 2])).backward()
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(gm.get_parameter(name).grad.numpy(), p.grad.numpy(),
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_rnn_nonlinearity_set_after_construction_changes_nothing(compile_):
    torch.manual_seed(0)
    tm = torch.nn.RNN(3, 4)
    gm = _copied(gn.nn.RNN(3, 4), tm)
    tm.nonlinearity = gm.nonlinearity = "relu"   # torch keeps the mode chosen in __init__
    x = np.linspace(-2, 2, 30, dtype=np.float32).reshape(5, 2, 3)
    expected = tm(torch.from_numpy(x))[1].detach().numpy()
    got = compile_(lambda a: gm(a)[1])(gn.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
