"""Integer indices beside advanced ones: PyTorch applies the integers as selections first, so
`b[1, :, [0, 2]]` of a [2, 3, 3] tensor is [3, 2], where NumPy's rule (JAX's) gives [2, 3].
Reads, writes and gradients match torch in both modes (graphnet/_index_spec.py `torch_block`)."""

import graphnet as gt
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore")


def _index(L, name):
    return {
        "b[1, :, [0, 2]]": (lambda b, c: b[1, :, [0, 2]]),
        "b[-1, ..., [0, 2]]": (lambda b, c: b[-1, ..., [0, 2]]),
        "b[1, None, :, [0, 2]]": (lambda b, c: b[1, None, :, [0, 2]]),
        "b[1, :, tensor([[0], [2]])]": (lambda b, c: b[1, :, L.tensor([[0], [2]])]),
        "b[1, :, mask]": (lambda b, c: b[1, :, L.tensor([True, False, True])]),
        "b[[0, 1], :, 1]": (lambda b, c: b[[0, 1], :, 1]),
        "b[:, 1, [0, 2]]": (lambda b, c: b[:, 1, [0, 2]]),
        "b[[0, 1], 1, [0, 1]]": (lambda b, c: b[[0, 1], 1, [0, 1]]),
        "c[0, :, [0, 1], 2]": (lambda b, c: c[0, :, [0, 1], 2]),
        "c[:, 0, :, [1, 2]]": (lambda b, c: c[:, 0, :, [1, 2]]),
        "c[1, ..., [1, 2]]": (lambda b, c: c[1, ..., [1, 2]]),
        "c[[1], :, 0, [1, 2]]": (lambda b, c: c[[1], :, 0, [1, 2]]),
        "c[0, [0, 1], :, [1, 2]]": (lambda b, c: c[0, [0, 1], :, [1, 2]]),
        "c[0, :, tensor 2x2, 1]": (lambda b, c: c[0, :, L.tensor([[0, 1], [1, 2]]), 1]),
    }[name]


NAMES = [
    "b[1, :, [0, 2]]", "b[-1, ..., [0, 2]]", "b[1, None, :, [0, 2]]",
    "b[1, :, tensor([[0], [2]])]", "b[1, :, mask]", "b[[0, 1], :, 1]", "b[:, 1, [0, 2]]",
    "b[[0, 1], 1, [0, 1]]", "c[0, :, [0, 1], 2]", "c[:, 0, :, [1, 2]]", "c[1, ..., [1, 2]]",
    "c[[1], :, 0, [1, 2]]", "c[0, [0, 1], :, [1, 2]]", "c[0, :, tensor 2x2, 1]"]


def _inputs(L):
    b = L.arange(18.0).reshape(2, 3, 3).requires_grad_()
    c = L.arange(120.0).reshape(2, 3, 4, 5).requires_grad_()
    return b, c


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", NAMES)
def test_reads_and_gradients_match_torch(name, compiled):
    tb, tc = _inputs(torch)
    want = _index(torch, name)(tb, tc)
    (want * torch.arange(float(want.numel())).reshape(want.shape)).sum().backward()

    gb, gc = _inputs(gt)
    index = _index(gt, name)

    def run(b, c):
        got = index(b, c)
        (got * gt.arange(float(got.numel())).reshape(got.shape)).sum().backward()
        return got

    got = (gt.compile(run) if compiled else run)(gb, gc)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    for g, w in ((gb, tb), (gc, tc)):
        assert (g.grad is None) == (w.grad is None)
        if w.grad is not None:
            np.testing.assert_array_equal(g.grad.numpy(), w.grad.numpy())


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_writes_match_torch(compiled):
    def write(L, x, y):
        x[1, :, [0, 2]] = L.tensor([[1.0, 2.0], [3.0, 4.0]])
        y[0, :, [0, 1], 2] = L.arange(6.0).reshape(3, 2)
        y[1, :, [0, 3]] += 1.0
        return x, y

    want = write(torch, torch.zeros(2, 2, 3), torch.zeros(2, 3, 4, 5))

    def run(x, y):
        return write(gt, x, y)

    got = (gt.compile(run) if compiled else run)(gt.zeros(2, 2, 3), gt.zeros(2, 3, 4, 5))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_value_with_leading_size_one_dims_is_written_as_in_torch(compiled):
    def write(L, x, a, m):
        x[0] = L.ones(1, 3)                            # a row kept 2-d, as often happens
        x[1, 1:] = L.full((1, 1, 2), 7.0)
        a[[0, 1], [0, 1]] = L.tensor([[1.0, 2.0]])
        m[L.tensor([True, False, True])] = L.tensor([[5.0, 6.0]])
        return x, a, m

    want = write(torch, torch.zeros(2, 3), torch.zeros(3, 3), torch.zeros(3, 2))

    def run(x, a, m):
        return write(gt, x, a, m)

    got = (gt.compile(run) if compiled else run)(gt.zeros(2, 3), gt.zeros(3, 3), gt.zeros(3, 2))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
