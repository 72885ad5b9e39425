"""`as_strided` of a view indexes the storage the view shares with its source, from the view's
own storage offset, as PyTorch's does (graphnet/_strided.py `_storage`); before, graphnet
indexed the view's values laid out anew (`x.t().as_strided((2, 2), (5, 1))` gave
[[0, 5], [6, 11]] for PyTorch's [[0, 1], [5, 6]]). Eager and compiled, values, writes through
the result and gradients, against PyTorch."""

import pytest
from parity import torch

import graphnet

CASES = [
    (lambda x: x.t(), (2, 2), (5, 1), None),
    (lambda x: x[:, 1:], (2, 2), (5, 1), None),
    (lambda x: x[::2], (2, 2), (5, 1), None),
    (lambda x: x[:, 2], (3,), (6,), None),
    (lambda x: x[1:, 1:].t(), (2, 3), (1, 5), None),
    (lambda x: x[2:], (2, 2), (1, 5), 3),
    (lambda x: x.view(2, 10)[1], (3, 2), (2, 1), None),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_as_strided_of_a_view_reads_the_shared_storage(case, mode):
    view, size, stride, offset = CASES[case]

    def program(lib):
        def run(x):
            return view(x).as_strided(size, stride, offset) * 1
        return graphnet.compile(run) if lib is graphnet and mode == "static" else run

    want = program(torch)(torch.arange(20.).view(4, 5)).tolist()
    got = program(graphnet)(graphnet.arange(20.).view(4, 5)).tolist()
    assert got == want


@pytest.mark.parametrize("case", range(len(CASES)))
def test_writes_and_gradients_through_as_strided_of_a_view(case):
    view, size, stride, offset = CASES[case]
    seen = {}
    for lib in (torch, graphnet):
        x = lib.arange(20.).view(4, 5)
        view(x).as_strided(size, stride, offset).mul_(-1)
        w = lib.arange(20.).view(4, 5).requires_grad_()
        y = view(w * 1).as_strided(size, stride, offset)
        (y * lib.arange(1., y.numel() + 1).view(y.shape)).sum().backward()
        seen[lib.__name__] = (x.tolist(), w.grad.tolist())
    assert seen["graphnet"] == seen["torch"]
