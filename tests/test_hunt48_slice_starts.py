"""Eager slices with a start pass it to the kernel as an argument: a TBPTT loop over
`data[i:i + 35]` compiles one getitem kernel, where a start kept in the kernel's attributes
compiled one per position (about 50 ms each). Values, gradients, views and the placement of
advanced-index dimensions stay PyTorch's."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet import _dispatch

X = np.arange(2 * 7 * 5, dtype=np.float32).reshape(2, 7, 5)
INDICES = [np.s_[1:3], np.s_[-3:], np.s_[2:100], np.s_[5:2], np.s_[:, 2:6:2], np.s_[..., 1:4],
           np.s_[0, 3:], np.s_[:, [0, 2], 1:3], np.s_[1:, 2:5, [1, 3]], np.s_[None, 1:2],
           np.s_[1, ..., 2:], np.s_[:, -5:-1:3, ::2], np.s_[1:2, None, 3:6],
           np.s_[[1, 0], 1:4, 0], np.s_[0, [1, 2], 2:4], np.s_[1:2, 1, [0, 1]]]


def _index(lib, index):
    return tuple(lib.tensor(v) if isinstance(v, list) else v for v in index) \
        if isinstance(index, tuple) else index


@pytest.mark.parametrize("k", range(len(INDICES)))
def test_slices_with_starts_match_torch(k):
    t, g = torch.tensor(X, requires_grad=True), gn.tensor(X, requires_grad=True)
    want, got = t[_index(torch, INDICES[k])], g[_index(gn, INDICES[k])]
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__
    w = np.random.default_rng(k).random(tuple(want.shape)).astype(np.float32)
    (want * torch.tensor(w)).sum().backward()
    (got * gn.tensor(w)).sum().backward()
    np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())
    a, b = torch.tensor(X), gn.tensor(X)
    a[_index(torch, INDICES[k])].mul_(-1)   # a basic index is a view: the write reaches x
    b[_index(gn, INDICES[k])].mul_(-1)
    np.testing.assert_array_equal(b.numpy(), a.numpy())


def test_a_window_loop_compiles_one_kernel():
    data = gn.arange(400.0).reshape(100, 4)
    for _ in range(6):
        data[3:38]   # the first window compiles
        data.narrow(0, 3, 5)
    before = _dispatch.kernel_cache_info()["entries"]
    windows = [data[i:i + 35] for i in range(4, 60)]
    narrowed = [data.narrow(0, i, 5) for i in range(10, 40)]
    assert _dispatch.kernel_cache_info()["entries"] - before <= 1   # (values read after)
    assert [w[0, 0].item() for w in windows] == [4.0 * i for i in range(4, 60)]
    assert [n[-1, -1].item() for n in narrowed] == [4.0 * (i + 4) + 3 for i in range(10, 40)]


@pytest.mark.parametrize("k", range(len(INDICES)))
def test_writes_through_slices_with_starts_match_torch(k):
    index = INDICES[k]
    t, g = torch.tensor(X, requires_grad=True), gn.tensor(X, requires_grad=True)
    outs = []
    for lib, x in ((torch, t), (gn, g)):
        y = x * 1
        y[_index(lib, index)] = y[_index(lib, index)] * 3 - 1
        y[_index(lib, index)] += 0.5
        (y * y).sum().backward()
        outs.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][1])


def test_a_window_write_loop_compiles_one_kernel():
    x = gn.zeros(60, 4)
    x[1:6] = 1.0
    x[2:7].mul_(2)
    x[:, 1:3].zero_()
    for _ in range(6):   # past the host-built fills' first meetings (graphnet/_host.py)
        x[52:57] = 1.0
        x[53:58].mul_(2)
    before = _dispatch.kernel_cache_info()["entries"]
    for i in range(8, 50, 3):
        x[i:i + 5] = 1.0
        x[i:i + 5].mul_(2)
    assert _dispatch.kernel_cache_info()["entries"] - before <= 1
    want = torch.zeros(60, 4)
    want[1:6] = 1.0
    want[2:7].mul_(2)
    want[:, 1:3].zero_()
    for _ in range(6):
        want[52:57] = 1.0
        want[53:58].mul_(2)
    for i in range(8, 50, 3):
        want[i:i + 5] = 1.0
        want[i:i + 5].mul_(2)
    np.testing.assert_array_equal(x.numpy(), want.numpy())
