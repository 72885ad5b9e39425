"""What goes in and out of a compiled call, and library code patched between calls (the
thirty-first session's hunt): static mode must give what torch and dynamic mode give."""

import torch

import graphnet as gn
import graphnet.nn.functional as F


def test_keyword_argument_order_is_the_call_order():
    def cat_kwargs(**kw):
        return gn.cat(list(kw.values())), list(kw)

    static = gn.compile(cat_kwargs)
    a, b = gn.tensor([1.]), gn.tensor([2.])
    assert static(a=a, b=b)[0].tolist() == [1., 2.]
    out, names = static(b=b, a=a)
    assert out.tolist() == [2., 1.] and names == ["b", "a"]


def _views_of_a_result(lib, x):
    y = x * 2
    return y, y.t(), y[0]


def test_views_of_a_returned_result_share_its_values():
    expected = _views_of_a_result(torch, torch.arange(4.).reshape(2, 2))
    expected[0].add_(100)
    static = gn.compile(lambda x: _views_of_a_result(gn, x))
    for _ in range(3):     # the traced call and the program's calls
        y, yt, y0 = static(gn.arange(4.).reshape(2, 2))
        y.add_(100)
        assert yt.tolist() == expected[1].tolist() and y0.tolist() == expected[2].tolist()
        assert yt.stride() == expected[1].stride() and not yt.is_contiguous()
        yt[0, 1] = -1.0     # and a write through a view reaches the result
        assert y[1, 0].item() == -1.0 and y0.tolist() == [100.0, 102.0]
    explained = static.explain()
    assert explained["graphs"] == 1, explained["recompile_reasons"]


def test_returned_views_report_torch_strides():
    def views(lib, x):
        return x.t(), (x + 1)[:, :1], x[:, ::2]

    expected = views(torch, torch.arange(12.).reshape(3, 4))
    static = gn.compile(lambda x: views(gn, x))
    for _ in range(2):
        got = static(gn.arange(12.).reshape(3, 4))
        assert [t.stride() for t in got] == [t.stride() for t in expected]
        assert [t.is_contiguous() for t in got] == [t.is_contiguous() for t in expected]


def test_a_library_forward_patched_between_calls_is_traced_again():
    m = gn.nn.Linear(2, 2)
    with gn.no_grad():
        m.weight.fill_(1.0)
        m.bias.fill_(0.0)
    static, x = gn.compile(m), gn.ones(1, 2)
    assert static(x).tolist() == [[2.0, 2.0]]
    original = gn.nn.Linear.forward
    gn.nn.Linear.forward = lambda self, x: original(self, x) * 10
    try:
        assert static(x).tolist() == [[20.0, 20.0]]
    finally:
        gn.nn.Linear.forward = original
    assert static(x).tolist() == [[2.0, 2.0]]


def _gelu_of(x):
    return F.gelu(x)


def test_a_functional_patched_between_calls_is_traced_again():
    static, x = gn.compile(_gelu_of), gn.ones(2)
    assert static(x).tolist() == [_gelu_of(x)[0].item()] * 2
    original = F.gelu
    F.gelu = lambda x, approximate="none": x * 0
    try:
        assert static(x).tolist() == [0.0, 0.0]
    finally:
        F.gelu = original


def _add_into(x, y):
    x.add_(y)
    return x * 1


def _fill(buf, y):
    buf[0] = y.sum()
    buf[1:] = y * 2


def test_an_argument_written_with_values_that_require_grad_keeps_their_history():
    for fn in (_add_into, gn.compile(_add_into)):
        for _ in range(2):      # the traced call and the program's
            w = gn.tensor([1., 2.], requires_grad=True)
            y = gn.tensor([3., 4.], requires_grad=True)
            x = w * 1
            r = fn(x, y)
            (r * x).sum().backward()
            assert w.grad.tolist() == [8.0, 12.0] and y.grad.tolist() == [8.0, 12.0]
    expected = torch.tensor([3., 4.], requires_grad=True)
    buffer = torch.zeros(3)
    _fill(buffer, expected)
    buffer.pow(2).sum().backward()
    static = gn.compile(_fill)
    for _ in range(2):
        y, buf = gn.tensor([3., 4.], requires_grad=True), gn.zeros(3)
        static(buf, y)
        assert buf.requires_grad
        buf.pow(2).sum().backward()
        assert y.grad.tolist() == expected.grad.tolist()


def test_requires_grad_set_on_an_argument_inside_holds_on_every_call():
    def starts_grad(x):
        x.requires_grad_()
        return (x * x).sum()

    def stops_grad(x):
        x.requires_grad_(False)
        return x * 2

    first, second = gn.compile(starts_grad), gn.compile(stops_grad)
    for _ in range(2):
        x = gn.ones(2) * 3
        loss = first(x)
        assert x.requires_grad and loss.requires_grad
        loss.backward()
        assert x.grad.tolist() == [6.0, 6.0]
        z = gn.ones(2, requires_grad=True)
        second(z)
        assert not z.requires_grad
