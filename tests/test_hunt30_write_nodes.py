"""The node a write through a view or an index leaves on the written tensor, printed as
PyTorch prints it (CopySlices, IndexPutBackward0, FillBackward3, CopyBackwards), with the
same gradients."""

import pytest

import graphnet

torch = pytest.importorskip("torch")


def _indices(lib):
    t = lib.tensor
    return [(slice(0, None), t([0, 1])), (slice(0, 2), t([0, 1])), (slice(0, None),),
            (t([0, 1]), slice(None)), (t([0, 1]), slice(0, 2)), (0, t([0, 1])),
            (None, t([0, 1])), (Ellipsis, t([0, 1])), (slice(None),), (Ellipsis,),
            (0, t([True, False, True])), (t(1),), (Ellipsis, 1), (t([True, False]),), (0,),
            (slice(None), 1)]


def _names_and_grad(lib, values):
    x = lib.ones(2, 3, requires_grad=True)
    names, total = [], 0
    for index in _indices(lib):
        for value in values(lib):
            y = x * 1
            try:
                y[index] = value
            except (RuntimeError, IndexError):
                names.append("error")
                continue
            names.append(type(y.grad_fn).__name__)
            total = total + (y * y).sum()
    total.backward()
    return names, x.grad.tolist()


def test_setitem_nodes_match_pytorch():
    values = lambda lib: (2.0, lib.tensor(3.0), lib.ones(3))   # noqa: E731
    assert _names_and_grad(graphnet, values) == _names_and_grad(torch, values)


def test_writes_through_views_are_copy_slices():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        outs = []
        for write in (lambda y: y[0].mul_(2), lambda y: y.narrow(1, 0, 2).fill_(3),
                      lambda y: y.view(-1).__setitem__(2, 1.0),
                      lambda y: y.transpose(0, 1).__setitem__(0, 7.0),
                      lambda y: y[:, :2].diagonal().zero_(),
                      lambda y: y.t().mul_(3)):
            y = x * 1
            write(y)
            outs.append(y)
        sum((o * o).sum() for o in outs).backward()
        return [type(o.grad_fn).__name__ for o in outs], x.grad.tolist()

    names, grad = run(graphnet)
    assert names == ["CopySlices"] * 6
    assert (names, grad) == run(torch)


def test_write_under_no_grad_keeps_the_node():
    for lib in (torch, graphnet):
        y = lib.ones(2, 3, requires_grad=True) * 1
        with lib.no_grad():
            y[0] = 3.0
        assert type(y.grad_fn).__name__ == "MulBackward0"


def test_random_fills_are_named_as_pytorch_draws():
    def names(lib):
        x = lib.ones(3, requires_grad=True)
        out = []
        for method, args in [("uniform_", ()), ("normal_", ()), ("bernoulli_", ()),
                             ("bernoulli_", (lib.full((3,), 0.5),)), ("random_", (0, 5)),
                             ("random_", (5,)), ("random_", ()), ("exponential_", ()),
                             ("geometric_", (0.5,)), ("log_normal_", ()), ("cauchy_", ())]:
            y = x * 1
            getattr(y, method)(*args)
            out.append(type(y.grad_fn).__name__)
        return out

    assert names(graphnet) == names(torch)


def test_composed_layers_and_losses_end_in_pytorch_nodes():
    def names(lib):
        F = lib.nn.functional
        x = lib.tensor([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]], requires_grad=True).log()
        t = lib.tensor([[0.3, 0.3, 0.4], [0.2, 0.2, 0.6]])
        out = [F.kl_div(x, t, reduction=r) for r in ("none", "sum", "batchmean")]
        out.append(F.kl_div(x, t.log(), reduction="none", log_target=True))
        lp = lib.tensor([[[0.1] * 5] * 2] * 3, requires_grad=True).log_softmax(2)
        out += [F.ctc_loss(lp, lib.tensor([[1, 2], [1, 1]]), lib.tensor([3, 3]),
                           lib.tensor([2, 1]), reduction=r) for r in ("none", "mean", "sum")]
        out.append(lib.nn.ChannelShuffle(2)(lib.ones(1, 4, 2, 2, requires_grad=True)))
        w = lib.ones(2, 3, 3, requires_grad=True)
        a = lib.ones(4, 3)
        out += [F.bilinear(a, a, w, lib.ones(2)), F.bilinear(a, a, w)]
        out.append(lib.nn.utils.rnn.pack_padded_sequence(
            lib.ones(2, 3, 2, requires_grad=True), [2, 1], batch_first=True).data)
        return [type(o.grad_fn).__name__ for o in out]

    assert names(graphnet) == names(torch)
