"""In-place writes through a view reach the tensor it views, as in PyTorch, eagerly and
compiled: basic indexing (`x[0]`, `x[:, ::2]`, narrow, select, unbind), reshapes (view,
reshape, flatten, squeeze, unsqueeze, view_as), transposes (t, transpose, permute), diagonal,
unfold and as_strided. Before, every
such write was silently lost (`w[0].fill_(0)`, `nn.init.constant_(w[:, 2], 7.)`,
`lstm.bias_ih_l0.data[H:2 * H].fill_(1)`, `F.relu(x[0], inplace=True)`, `x[0][1] = v`).

The other direction, a view taken *before* an in-place change of its base showing the new
values: tests/test_view_values.py."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

PROGRAMS = {
    "select add_": lambda T, F, x: x[0].add_(1),
    "slice with step zero_": lambda T, F, x: x[:, ::2].zero_(),
    "chained setitem": lambda T, F, x: x[1].__setitem__(2, -5.0),
    "chained setitem with a mask": lambda T, F, x: x[1].__setitem__(x[1] > 4, 0.0),
    "augmented setitem through a view": lambda T, F, x: x[:, 2].__setitem__(0, 7.0),
    "narrow fill_": lambda T, F, x: x.narrow(1, 1, 2).fill_(-1),
    "select copy_": lambda T, F, x: x.select(1, 0).copy_(T.tensor([9.0, 8.0, 7.0])),
    "unbind part mul_": lambda T, F, x: x.unbind(0)[2].mul_(3),
    "transpose then select": lambda T, F, x: x.t()[1].mul_(10),
    "permute mul_": lambda T, F, x: x.permute(1, 0).mul_(2),
    "view mul_": lambda T, F, x: x.view(-1).mul_(2),
    "reshape then index": lambda T, F, x: x.reshape(4, 3)[0].fill_(5),
    "flatten add_": lambda T, F, x: x.flatten().add_(1),
    "unsqueeze sub_": lambda T, F, x: x.unsqueeze(0).sub_(1),
    "relu inplace on a row": lambda T, F, x: F.relu(x[0].sub_(3), inplace=True),
    "init on a column": lambda T, F, x: T.nn.init.constant_(x[:, 2], 7.0),
    "diagonal fill_": lambda T, F, x: x.diagonal().fill_(-9),
    "offset diagonal sub_": lambda T, F, x: x.diagonal(1).sub_(100),
    "unfold mul_": lambda T, F, x: x.unfold(1, 2, 2).mul_(-1),
    "as_strided fill_": lambda T, F, x: x.as_strided((2, 2), (4, 1), 1).fill_(0.5),
}


def _run(lib, name, compiled=False):
    def fn(x):
        x = x.clone()
        with lib.no_grad():
            PROGRAMS[name](lib, lib.nn.functional, x)
        return x

    x = lib.arange(12.0).reshape(3, 4) - 4
    out = (graphnet.compile(fn) if compiled else fn)(x)
    return np.asarray(out.numpy())


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_a_write_through_a_view_reaches_its_source(name):
    want = _run(torch, name)
    np.testing.assert_array_equal(_run(graphnet, name), want)
    np.testing.assert_array_equal(_run(graphnet, name, compiled=True), want)


def test_a_write_through_a_view_keeps_gradients_as_torch():
    def fn(lib, x):
        y = x * 2
        y[0].mul_(3)
        y.t()[1].add_(y[:, 0])
        return (y * y).sum()

    tx = torch.arange(6.0).reshape(3, 2).requires_grad_()
    fn(torch, tx).backward()
    for compiled in (False, True):
        gx = graphnet.arange(6.0).reshape(3, 2).requires_grad_()
        step = graphnet.compile(lambda x: fn(graphnet, x).backward()) if compiled else \
            (lambda x: fn(graphnet, x).backward())
        step(gx)
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_a_view_of_a_leaf_that_requires_grad_refuses_an_in_place_write():
    w = graphnet.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation"):
        w[0].mul_(2)


def test_advanced_indexing_copies_as_in_torch():
    for lib in (torch, graphnet):
        x = lib.zeros(3)
        x[lib.tensor([0, 1])].add_(1)
        assert x.tolist() == [0.0, 0.0, 0.0]


def _graph_kept(lib, w, how):
    """A write autograd does not record (through .data / detach(), or under no_grad) changes
    a non-leaf's values and keeps its gradient path, as in PyTorch."""
    h = w * 1.0
    if how == "detach":
        h.detach().mul_(3.0)
    elif how == "data":
        h.data.clamp_(-0.1, 0.3)
    elif how == "no_grad":
        with lib.no_grad():
            h.mul_(3.0)
    elif how == "zero_":       # recorded, with a zero gradient to the old values
        h.t().zero_()
    elif how == "view_as":     # recorded, through a view of a tensor that requires grad
        h.view_as(w)[0, 0] = 5.0
    return (h * h).sum()


@pytest.mark.parametrize("how", ["detach", "data", "no_grad", "zero_", "view_as"])
def test_an_unrecorded_write_changes_values_and_keeps_the_gradient(how):
    """Compiled, the first three gave w no gradient at all (the new values had no path back);
    eagerly, no_grad and zero_ made the backward raise, and the write through view_as was
    lost."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 10 - 0.2
    tw = torch.tensor(x, requires_grad=True)
    want = _graph_kept(torch, tw, how)
    want.backward()
    for compiled in (False, True):
        w = graphnet.tensor(x, requires_grad=True)

        def step(w):
            loss = _graph_kept(graphnet, w, how)
            loss.backward()
            return loss

        got = (graphnet.compile(step) if compiled else step)(w)
        np.testing.assert_allclose(float(got), float(want), rtol=1e-6)
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-6)
