"""A view (basic indexing, a reshape, a transpose, diagonal, unfold, as_strided) taken
*before* an in-place change of its source shows the new values, as PyTorch's shared storage
does, eagerly and compiled. Before, it silently kept the values of when it was taken (the
other direction, writes through a view: tests/test_view_writes.py)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

VIEWS = {
    "rows": lambda x: x[1:3],
    "column": lambda x: x[:, 1],
    "transpose": lambda x: x.t(),
    "flat": lambda x: x.view(-1),
    "reshape then select": lambda x: x.reshape(4, 3)[2],
    "permute unsqueeze": lambda x: x.permute(1, 0).unsqueeze(0),
    "diagonal": lambda x: x.diagonal(1),
    "unfold": lambda x: x.unfold(1, 2, 2),
    "as_strided": lambda x: x.as_strided((2, 2), (4, 1), 1),
    "alias of a view": lambda x: x[0].detach(),
    "view of an alias": lambda x: x.data[2],
}
CHANGES = {
    "add_": lambda x, views: x.add_(1),
    "setitem": lambda x, views: x.__setitem__((0, 0), 100.0),
    "through another view": lambda x, views: views[1].mul_(-2),
    "copy_": lambda x, views: x.copy_(x.flip(0)),
}


def _run(lib, change, compiled=False):
    def fn(x):
        x = x.clone()
        views = [make(x) for make in VIEWS.values()]
        with lib.no_grad():
            CHANGES[change](x, views)
        return [v * 1 for v in views]

    x = lib.arange(12.0).reshape(3, 4) - 4
    out = (graphnet.compile(fn) if compiled else fn)(x)
    return [np.asarray(o.numpy()) for o in out]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_views_taken_before_an_in_place_change_show_the_new_values(change, compiled):
    want = _run(torch, change)
    got = _run(graphnet, change, compiled)
    for name, w, g in zip(VIEWS, want, got, strict=True):
        np.testing.assert_array_equal(g, w, err_msg=name)


def _train(lib, compiled):
    m = lib.nn.Linear(3, 2)
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]))
        m.bias.copy_(lib.tensor([0.5, -0.5]))
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    row, column, flat = m.weight[0], m.weight.t()[1], m.bias.view(1, 2)
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

    def step():
        opt.zero_grad()
        m(x).pow(2).sum().backward()
        opt.step()

    run = graphnet.compile(step) if compiled and lib is graphnet else step
    for _ in range(3):
        run()
    return [np.array(t.detach().numpy()) for t in (row, column, flat)]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_views_of_parameters_follow_optimizer_steps(compiled):
    for w, g in zip(_train(torch, False), _train(graphnet, compiled), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def _rebased(lib, a):
    """An in-place op recorded by autograd on a view's source: the view's gradient goes
    through it, as PyTorch rebases the view on its source's new history."""
    h = a * 2
    v = h[0]
    h.mul_(3)
    u = h.t()
    h.add_(h.detach())
    return (v * v).sum() + (u * 1.5).sum()


def test_a_view_is_rebased_on_its_sources_new_history_as_in_pytorch():
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5
    ta = torch.tensor(x, requires_grad=True)
    _rebased(torch, ta).backward()
    for compiled in (False, True):
        a = graphnet.tensor(x, requires_grad=True)
        step = (lambda a: _rebased(graphnet, a).backward())
        (graphnet.compile(step) if compiled else step)(a)
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)


def test_data_assignment_leaves_earlier_views_on_the_old_storage():
    results = []
    for lib in (torch, graphnet):
        x = lib.zeros(2, 3)
        row = x[0]
        x.data = lib.ones(2, 3)
        x.add_(1)
        results.append((row.tolist(), x.tolist()))
    assert results[1] == results[0]
