"""A function held as another function's default argument (`self.act = lambda z, f=act: f(z)`)
has its closure cells guarded like any function the code reaches: a slope changed through
`nonlocal` after compiling ran the first program ([-0.2, -0.1, 1] where PyTorch gives
[-1, -0.5, 1])."""
import pytest
import torch

import graphnet as G


def _make(lib):
    slope = 0.1

    def act(z):
        return lib.where(z > 0, z, z * slope)

    def set_slope(value):
        nonlocal slope
        slope = value

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = lambda z, f=act: f(z)
            self.kw = lambda z, *, g=act: g(z)

        def forward(self, x, keyword=False):
            return (self.kw if keyword else self.act)(x * 2)

    return Net(), set_slope


@pytest.mark.parametrize("keyword", [False, True])
def test_changed_cell_behind_a_default_traces_again(keyword):
    data = [-1.0, -0.5, 0.5]
    want_net, want_set = _make(torch)
    net, set_slope = _make(G)
    compiled = G.compile(net)
    results = []
    for slope in (0.1, 0.5, 0.1):
        want_set(slope)
        set_slope(slope)
        want = want_net(torch.tensor(data), keyword).tolist()
        got = compiled(G.tensor(data), keyword).tolist()
        assert got == pytest.approx(want)
        results.append(got)
    assert results[1] != results[0]
