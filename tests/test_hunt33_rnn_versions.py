"""Recurrent layers' saved tensors are version-checked (thirty-third session's TBPTT hunt):
`opt.step()` between two backward passes through a retained graph, or a state buffer
written with `copy_` before the backward, raises torch's "modified by an inplace operation"
error; nn.RNN, nn.GRU and nn.LSTM raised nothing and used the old saved values."""

import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("layer", ["RNN", "GRU", "LSTM"])
def test_step_between_retained_backwards_raises_as_torch(layer):
    for lib in (torch, gn):
        lib.manual_seed(0)
        rnn = getattr(lib.nn, layer)(4, 4)
        opt = lib.optim.SGD(rnn.parameters(), lr=0.1)
        h = lib.zeros(1, 2, 4) if layer != "LSTM" else (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            for _ in range(2):
                opt.zero_grad()
                out, h = rnn(lib.ones(5, 2, 4), h)
                out.pow(2).mean().backward(retain_graph=True)
                opt.step()


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_state_buffer_written_before_backward_raises(compile_):
    gru = gn.nn.GRU(3, 3)
    state = gn.zeros(1, 2, 3)

    def step(x):
        out, hn = gru(x, state)
        state.copy_(hn.detach())        # the saved initial state, written before backward
        out.sum().backward()
        return out.detach()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        compile_(step)(gn.ones(4, 2, 3))


def test_detached_state_between_chunks_still_trains():
    gru = gn.nn.GRU(3, 3)
    opt = gn.optim.SGD(gru.parameters(), lr=0.1)
    h = gn.zeros(1, 2, 3)
    for _ in range(3):
        opt.zero_grad()
        out, h = gru(gn.ones(4, 2, 3), h.detach())
        out.pow(2).mean().backward()
        opt.step()
