"""A hidden state kept on the module and written twice in one forward (the stateful-RNN idiom
`self.h = self.h.detach(); out, self.h = self.rnn(x, self.h)`) is carried to the next compiled
call, as eagerly. Before, the second write hid the first one's reading of the old state: the
compiled forward read the first call's hidden state on every later call, silently."""
import warnings

import numpy as np
import pytest
import torch

import graphnet as G


def _model(lib, kind):
    class Stateful(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = lib.nn.GRU(2, 3) if kind == "gru" else None
            self.lin = lib.nn.Linear(2, 3)
            self.h = lib.zeros(1, 1, 3) if kind == "gru" else lib.zeros(1, 3)

        def forward(self, x):
            self.h = self.h.detach()
            if kind == "gru":
                out, self.h = self.rnn(x, self.h)
                return out.sum()
            self.h = lib.tanh(self.lin(x[0]) + self.h)
            return self.h.sum()

    return Stateful()


@pytest.mark.parametrize("kind", ["gru", "cell"])
def test_state_written_twice_is_carried_forward(kind):
    torch.manual_seed(0)
    t_model, g_model = _model(torch, kind), _model(G, kind)
    g_model.load_state_dict({k: G.tensor(v.detach().numpy())
                             for k, v in t_model.state_dict().items()})
    step = G.compile(g_model)
    rng = np.random.RandomState(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(4):
            x = rng.randn(4, 1, 2).astype(np.float32)
            want = float(t_model(torch.tensor(x)))
            got = float(step(G.tensor(x)))
            assert got == pytest.approx(want, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(g_model.h.detach().numpy(), t_model.h.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
