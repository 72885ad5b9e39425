"""In-place writes PyTorch refuses under autograd, refused alike: to a view made under
no_grad (graphnet gave its elements a zero gradient), to one of the views split, chunk or
unbind return (graphnet went on), and through `out=` into a tensor that partly overlaps an
input (graphnet computed from a copy of the input)."""
import pytest
import torch

import graphnet as G


def _no_grad_view(lib):
    x = lib.ones(3, requires_grad=True)
    h = x * 1
    with lib.no_grad():
        v = h[:2]
    v.mul_(2)
    h.sum().backward()


def _no_grad_view_of_leaf(lib):
    x = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        v = x.view(3)
    v.add_(1)


def _copy_grad_into_no_grad_view(lib):
    h, y = lib.ones(3), lib.ones(2, requires_grad=True)
    with lib.no_grad():
        v = h[:2]
    v.copy_(y)


@pytest.mark.parametrize("case", [_no_grad_view, _no_grad_view_of_leaf,
                                  _copy_grad_into_no_grad_view])
def test_no_grad_view_written_with_grad_on(case):
    for lib in (torch, G):
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
            case(lib)


def test_no_grad_view_writes_that_torch_allows():
    for lib in (torch, G):
        h = lib.ones(3)
        with lib.no_grad():
            v = h[:2]
        v.mul_(2)                        # nothing needs grad
        x = lib.ones(3, requires_grad=True)
        g = x * 1
        with lib.no_grad():
            w = g[:2]
            w.mul_(2)                    # view and write both under no_grad
        assert h.tolist() == [2.0, 2.0, 1.0] and g.tolist() == [2.0, 2.0, 1.0]


@pytest.mark.parametrize("split, name", [(lambda h: h.split(1), "Output 0 of Split"),
                                         (lambda h: h.chunk(2), "Output 0 of Split"),
                                         (lambda h: h.unbind(0), "Output 0 of Unbind"),
                                         (lambda h: h.split([1, 1]), "SplitWithSizes")])
@pytest.mark.parametrize("static", [False, True])
def test_multi_output_view_written_under_autograd(split, name, static):
    def f(x):
        h = x * 1
        split(h)[0].mul_(2)
        return h

    x = G.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match=name):
        (G.compile(f) if static else f)(x)
    with pytest.raises(RuntimeError, match=name):
        f(torch.ones(2, 2, requires_grad=True))


def test_multi_output_views_written_without_autograd():
    for lib in (torch, G):
        h = lib.ones(2, 2)
        h.split(1)[0].mul_(2)
        x = lib.ones(2, 2, requires_grad=True)
        g = x * 1
        with lib.no_grad():
            g.unbind(0)[1].mul_(3)
        g.tensor_split(2)[0].mul_(2)     # tensor_split's pieces are plain slices
        assert h.tolist() == [[2.0, 2.0], [1.0, 1.0]]
        assert g.tolist() == [[2.0, 2.0], [3.0, 3.0]]


@pytest.mark.parametrize("static", [False, True])
def test_out_overlapping_an_input_is_refused(static):
    def f(a):
        G.add(a[:-1], a[1:], out=a[1:])
        return a

    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        (G.compile(f) if static else f)(G.arange(5.0))
    a = torch.arange(5.0)
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        torch.add(a[:-1], a[1:], out=a[1:])


def test_out_overlap_rules_follow_torch_per_op():
    got = {}
    for lib in (torch, G):
        results = []
        for call in (lambda t, b: t.exp(b[:3], out=b[1:4]),
                     lambda t, b: t.cumsum(b[:3], 0, out=b[1:4]),
                     lambda t, b: t.sum(b[:4].view(2, 2), 1, out=b[1:3]),
                     lambda t, b: t.mm(b[:4].view(2, 2), t.eye(2), out=b[1:5].view(2, 2)),
                     lambda t, b: t.cat([b[:2], b[2:3]], out=b[1:4]),
                     lambda t, b: t.add(b, 1, out=b)):
            try:
                call(lib, lib.arange(6.0))
                results.append("ok")
            except RuntimeError:
                results.append("refused")
        got[lib.__name__] = results
    assert got["graphnet"] == got["torch"] == ["refused", "refused", "ok", "ok", "refused",
                                               "ok"]


@pytest.mark.parametrize("lib", [torch, G])
def test_grad_that_views_a_bucket_accumulates_into_it(lib):
    p = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
    flat = lib.zeros(4)
    with lib.no_grad():
        p.grad = flat[:3].view_as(p)
    (p * p).sum().backward()
    assert flat.tolist() == [2.0, 4.0, 6.0, 0.0]
    flat.div_(2)
    assert p.grad.tolist() == [1.0, 2.0, 3.0]


def test_no_grad_view_written_with_grad_on_inside_a_compiled_function():
    def f(x):
        h = x * 1
        with G.no_grad():
            v = h[:2]
        v.mul_(2)
        return h

    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        G.compile(f)(G.ones(3, requires_grad=True))

    def g(x):                      # view and write both under no_grad: allowed, as eagerly
        h = x * 1
        with G.no_grad():
            h[:2].mul_(2)
        return h

    assert G.compile(g)(G.ones(3, requires_grad=True)).tolist() == [2.0, 2.0, 1.0]
