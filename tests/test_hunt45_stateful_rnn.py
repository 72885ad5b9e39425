"""A compiled stateful RNN that keeps its hidden state on the module and detaches it at the
start of each forward (truncated BPTT) trains as in PyTorch: backward never visits the
stored state's history, which no gradient reaches."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as gn


def _cell(lib, paired):
    class Cell(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(4, 4)
            self.hidden = None

        def forward(self, x):
            if self.hidden is None:
                h = c = lib.zeros_like(x)
            elif paired:
                h, c = tuple(v.detach() for v in self.hidden)
            else:
                h = c = self.hidden.detach()
            h = lib.tanh(self.lin(x) + h * 0.5 + c * 0.25)
            self.hidden = (h, h * 2) if paired else h
            return h

    return Cell()


def _train(lib, paired, compiled):
    torch.manual_seed(0)
    ref = _cell(torch, paired)
    m = _cell(lib, paired)
    m.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    if compiled:
        m.compile()
    grads = []
    for k in range(4):
        loss = m(lib.ones(2, 4) * (k + 1)).sum()
        loss.backward()
        grads.append(m.lin.weight.grad.numpy().copy())
        m.lin.weight.grad = None
    return grads


@pytest.mark.parametrize("paired", [False, True])
def test_truncated_bptt_with_state_on_the_module(paired):
    want = _train(torch, paired, False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the stored new tensor retraces each call (warned)
        for compiled in (False, True):
            for got, ref in zip(_train(gn, paired, compiled), want):
                np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
