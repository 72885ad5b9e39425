"""`t_()`, `transpose_`, `squeeze_` and `unsqueeze_` on a view keep its storage
(graphnet/_view_relayout.py): writes through the view reach its source in the right
places, the source's writes reach the view in its new layout, and views of the view taken
before keep following it. Checked eagerly and compiled against PyTorch; before, the view's
ties kept the old layout (`x = b.view(2, 3); x.t_(); x.mul_(2)` wrote `b` permuted)."""

import pytest
from parity import torch

import graphnet


def t_then_writes(lib):
    b = lib.arange(6.)
    x = b.view(2, 3)
    x.t_()
    x.mul_(2)
    x[0].fill_(-1)
    return [b, x]


def unsqueeze_keeps_an_earlier_view(lib):
    x = lib.arange(6.).view(2, 3)
    y = x.view(6)
    x.unsqueeze_(0)
    x[0, 1].fill_(-1)
    return [x, y]


def transpose_of_a_slice(lib):
    b = lib.arange(24.).view(2, 3, 4)
    x = b[1]
    x.transpose_(0, 1)
    x[2].add_(100)
    return [b, x]


def squeeze_then_row_write(lib):
    b = lib.arange(6.)
    x = b.view(1, 2, 3)
    x.squeeze_(0)
    x[1].zero_()
    return [b, x]


def source_written_after(lib):
    b = lib.arange(6.).view(2, 3)
    x = b[:, :]
    x.t_()
    b[1].add_(10)
    return [b, x]


def square_t_then_view_write(lib):
    b = lib.arange(9.).view(3, 3)
    x = b[:]
    x.t_()
    x[0, 1:].fill_(7)      # a square view: the old layout had the same shape
    return [b, x]


PROGRAMS = [t_then_writes, unsqueeze_keeps_an_earlier_view, transpose_of_a_slice,
            squeeze_then_row_write, source_written_after, square_t_then_view_write]


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_in_place_layout_ops_on_views_match_pytorch(program, mode):
    want = [t.tolist() for t in program(torch)]
    if mode == "dynamic":
        got = [t.tolist() for t in program(graphnet)]
    else:
        fn = graphnet.compile(lambda: tuple(t * 1 for t in program(graphnet)))
        got = [t.tolist() for t in fn()]
        got = [t.tolist() for t in fn()]   # a second call: the same program again
    assert got == want


def test_gradient_through_a_transposed_view_write():
    grads = {}
    for lib in (torch, graphnet):
        w = lib.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
        b = w * 1
        x = b.view(3, 2)
        x.t_()
        x.mul_(lib.tensor([[1.], [3.]]))
        (b * lib.arange(6.).view(2, 3)).sum().backward()
        grads[lib.__name__] = (w.grad.tolist(), b.tolist())
    assert grads["graphnet"] == grads["torch"]


@pytest.mark.parametrize("op", [("t_", ()), ("transpose_", (0, 2)), ("unsqueeze_", (1,)),
                                ("squeeze_", (0,))])
def test_strides_after_an_in_place_layout_op(op):
    name, args = op
    seen = {}
    for lib in (torch, graphnet):
        x = lib.arange(6.).view(1, 2, 3) if name != "t_" else lib.arange(6.).view(2, 3)
        getattr(x, name)(*args)
        seen[lib.__name__] = (tuple(x.shape), tuple(x.stride()), x.is_contiguous())
    assert seen["graphnet"] == seen["torch"]
