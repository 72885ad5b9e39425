"""RNNCell, LSTMCell, GRUCell against PyTorch: one step and a loop over time, values and
gradients, dynamic and static; unbatched input; parameter names, repr, init and errors."""

import math

import numpy as np
import pytest
from parity import check_module, np_of, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)
T, N, I, H = 2, 2, 5, 4  # noqa: E741


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def wrappers(name, steps, **kwargs):
    """forward(x [T, N, I] or [T, I], *state) runs the cell over time and returns every
    output state flattened into one tensor."""
    def make(lib):
        class Loop(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.cell = getattr(lib.nn, name)(I, H, **kwargs)

            def forward(self, x, *state):
                hx = None if not state else (tuple(state) if name == "LSTMCell" else state[0])
                outs = []
                for t in range(steps):
                    hx = self.cell(x[t], hx)
                    outs += list(hx) if name == "LSTMCell" else [hx]
                return lib.cat([o.reshape(-1) for o in outs])
        return Loop()
    return make(graphnet), make(torch)


@pytest.mark.parametrize("name,kwargs,with_state,batched", [
    ("LSTMCell", {}, True, True),
    ("GRUCell", {}, False, True),
    ("RNNCell", dict(nonlinearity="relu", bias=False), True, True),
    ("RNNCell", {}, True, False),
])
def test_cell_loop_matches_torch(name, kwargs, with_state, batched):
    ours, theirs = wrappers(name, T, **kwargs)
    x = arr(T, N, I) if batched else arr(T, I)
    shape = (N, H) if batched else (H,)
    state = [arr(*shape) for _ in range(2 if name == "LSTMCell" else 1)] if with_state else []
    check_module(ours, theirs, [x] + state)


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell"])
def test_unbatched_cells_dynamic(name):
    ours, theirs = wrappers(name, T)
    check_module(ours, theirs, [arr(T, I)], static=False)


@pytest.mark.parametrize("name,kwargs", [
    ("RNNCell", {}), ("RNNCell", dict(bias=False, nonlinearity="relu")), ("LSTMCell", {}),
    ("GRUCell", dict(bias=False))])
def test_repr_state_dict_and_init(name, kwargs):
    ours, theirs = getattr(nn, name)(I, H, **kwargs), getattr(torch.nn, name)(I, H, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(p.shape) for p in ours.parameters()] == \
        [tuple(p.shape) for p in theirs.parameters()]
    assert isinstance(ours, nn.RNNCellBase)
    if not kwargs.get("bias", True):
        assert ours.bias_ih is None and ours.bias_hh is None
    bound = 1 / math.sqrt(H)
    for p in ours.parameters():
        values = np_of(p)
        assert values.min() >= -bound and values.max() <= bound


@pytest.mark.parametrize("name,args", [
    ("LSTMCell", lambda lib: (lib.zeros(N, I + 1),)),
    ("LSTMCell", lambda lib: (lib.zeros(N, I), (lib.zeros(N + 1, H), lib.zeros(N + 1, H)))),
    ("LSTMCell", lambda lib: (lib.zeros(N, I), (lib.zeros(N, H), lib.zeros(N, H - 1)))),
    ("GRUCell", lambda lib: (lib.zeros(N, 2, I),)),
    ("GRUCell", lambda lib: (lib.zeros(N, I), lib.zeros(1, N, H))),
    ("RNNCell", lambda lib: (lib.zeros(I), lib.zeros(1, H))),
])
def test_errors_match_torch(name, args):
    with pytest.raises(Exception) as theirs:
        getattr(torch.nn, name)(I, H)(*args(torch))
    with pytest.raises(type(theirs.value)) as ours:
        getattr(nn, name)(I, H)(*args(graphnet))
    assert str(ours.value) == str(theirs.value)


def test_unknown_nonlinearity_raises_on_call():
    cell = nn.RNNCell(I, H, nonlinearity="gelu")
    assert repr(cell) == repr(torch.nn.RNNCell(I, H, nonlinearity="gelu"))
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: gelu"):
        cell(graphnet.zeros(N, I))


def test_rnn_cell_base_builds_chunked_parameters():
    ours, theirs = nn.RNNCellBase(I, H, True, 2), torch.nn.RNNCellBase(I, H, True, 2)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
