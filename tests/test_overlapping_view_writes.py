"""Writes through views whose elements share places (`unfold` with step < size, `expand`,
`as_strided` with repeated positions): a write to a part with no shared place changes those
elements of the source and nothing else, as PyTorch's shared storage does, in both modes;
a write whose elements share a place raises (graphnet/_overlap_writes.py)."""

import numpy as np
import pytest
import torch

import graphnet as gn

X = np.random.RandomState(0).randn(2, 6).astype(np.float32)
W = np.random.RandomState(1).randn(6).astype(np.float32)


def _unfold_row(L, x, w):
    y = x * w
    y.unfold(1, 3, 1)[:, 1].mul_(2)          # window 1 of each row
    return y


def _unfold_column(L, x, w):
    y = x * w
    y.unfold(1, 2, 1)[:, :, 0].add_(1)       # each window's first element
    return y


def _unfold_setitem(L, x, w):
    y = x * w
    v = y.unfold(1, 3, 1)
    v[1, 2, 1:] = 0.5                          # on the overlapping view itself
    v[0, 1, 0] = x[0, 0]
    return y


def _unfold_nested(L, x, w):
    y = x * w
    y.unfold(1, 4, 1).unfold(2, 2, 1)[0, 1, 2].mul_(-3)
    return y


def _expand_row(L, x, w):
    y = w * 1
    y.expand(3, 6)[2].mul_(x[1])
    return y


def _strided_row(L, x, w):
    y = (x * w).reshape(-1)
    y.as_strided((5, 3), (2, 1))[3].sub_(x[0, :3])
    return y


def _view_reads_after(L, x, w):
    y = x * w
    v = y.unfold(1, 2, 1)
    v[0, 0].fill_(4.0)
    return v * 1                               # its other windows show the new places


PROGRAMS = [_unfold_row, _unfold_column, _unfold_setitem, _unfold_nested, _expand_row,
            _strided_row, _view_reads_after]


def _run(lib, program, compiled):
    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)
    fn = (lambda x, w: program(lib, x, w))
    if compiled:
        fn = gn.compile(fn)
    for _ in range(2 if compiled else 1):
        x.grad = w.grad = None
        out = fn(x, w)
        (out * out).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__.strip("_"))
def test_write_to_a_part_reaches_only_its_places(program, compiled):
    want = _run(torch, program, False)
    got = _run(gn, program, compiled)
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=1e-6, atol=1e-6)


def test_a_buffer_written_through_a_window_keeps_its_neighbours():
    results = {}
    for name, lib in (("torch", torch), ("dynamic", gn), ("static", gn)):
        buf = lib.arange(8.)

        def step(x):
            buf.unfold(0, 3, 1)[x.shape[0]].fill_(-1)
            return buf.sum()

        fn = gn.compile(step) if name == "static" else step
        fn(lib.zeros(2))
        fn(lib.zeros(4))
        results[name] = buf.tolist()
    assert results["dynamic"] == results["torch"] == [0.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 7.0]
    assert results["static"] == results["torch"]


SHARED = {
    "unfold": lambda a: a.unfold(0, 3, 1).mul_(10),
    "unfold rows": lambda a: a.unfold(0, 3, 1)[1:3].add_(1),
    "expand": lambda a: a[:3].expand(2, 3).add_(1),
    "expand column": lambda a: a[:3].expand(2, 3)[:, 1].add_(1),
    "as_strided": lambda a: a.as_strided((3, 2), (1, 1)).mul_(2),
    "setitem": lambda a: a.unfold(0, 2, 1).__setitem__(slice(0, 2), 5.0),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("write", list(SHARED), ids=str)
def test_a_write_whose_elements_share_a_place_raises_and_changes_nothing(write, compiled):
    a = gn.arange(6.)
    fn = (lambda a: SHARED[write](a) and None)
    if compiled:
        fn = gn.compile(fn)
    with pytest.raises(RuntimeError, match="single memory location"):
        fn(a)
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_pytorch_takes_the_same_part_writes():
    # the reference the cases above rest on: PyTorch writes such parts through its storage
    a = torch.arange(6.)
    a.unfold(0, 2, 1)[0].fill_(-1)
    assert a.tolist() == [-1.0, -1.0, 2.0, 3.0, 4.0, 5.0]
    x = torch.zeros(4)
    x.expand(3, 4)[1].fill_(5)
    assert x.tolist() == [5.0] * 4


@pytest.mark.parametrize("write", [
    lambda x: x[:, :1].expand(3, 4).fill_(7),
    lambda x: x[0].expand(2, 4).zero_(),
    lambda x: x.unfold(1, 2, 1).fill_(0),
])
@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_fill_and_zero_of_an_overlapping_view_as_pytorch(write, mode):
    """One value everywhere: PyTorch allows it on an expanded or unfolded view (before,
    graphnet refused it as a conflicting write)."""
    want = torch.arange(12.).view(3, 4)
    write(want)

    def run(x):
        write(x)
        return x * 1

    fn = gn.compile(run) if mode == "static" else run
    assert fn(gn.arange(12.).view(3, 4)).tolist() == want.tolist()


def test_fill_of_an_overlapping_view_with_a_tensor_is_refused_as_in_pytorch():
    for lib in (torch, gn):
        x = lib.arange(12.).view(3, 4)
        with pytest.raises(RuntimeError, match="more than one element"):
            x[:, 1:2].expand(3, 4).fill_(lib.tensor(2.5))
