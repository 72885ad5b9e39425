"""A view or alias captured from outside a compiled function, read after the function wrote
the tensor it views (compiler/captured_views.py). Each program runs eagerly in PyTorch and
compiled in graphnet, several calls, with the values checked after every call: before, the
compiled view kept its values from before the write (`v.add_(x); return d * 1` returned d
without x)."""

import numpy as np
import pytest
from parity import torch

import graphnet


def _run(lib, program, calls=3):
    """program(lib) -> (fn, read): fn(k) runs one call; read() the values to compare."""
    fn, read = program(lib)
    if lib is graphnet:
        fn = graphnet.compile(fn)
    seen = []
    for k in range(calls):
        out = fn(lib.tensor(float(k + 1)))
        seen.append([np.asarray(out.tolist() if out is not None else 0.0)]
                    + [np.asarray(v.tolist()) for v in read()])
    return seen


def two_views(lib):
    base = lib.arange(12.).view(4, 3)
    rows, diag = base[1:3], base.diagonal()

    def f(x):
        rows.add_(x)
        return diag * 1

    return f, lambda: (base, rows, diag)


def write_base_then_view(lib):
    b = lib.arange(6.).view(2, 3)
    row = b[1]

    def f(x):
        b.mul_(2)
        row.add_(x)
        return row + 0

    return f, lambda: (b, row)


def view_of_a_view(lib):
    base = lib.arange(8.)
    middle = base.view(2, 4)[1:]
    inner = middle[0, 1:3]

    def f(x):
        base.add_(x)
        return inner * 2

    return f, lambda: (base, middle, inner)


def detached_alias(lib):
    base = lib.arange(4.)
    alias = base.detach()

    def f(x):
        base.mul_(x)
        return alias + 0

    return f, lambda: (base, alias)


def transposed_view(lib):
    base = lib.arange(6.).view(2, 3)
    tv = base.t()

    def f(x):
        base[0].sub_(x)
        return tv.sum(1)

    return f, lambda: (base, tv)


class _Memory(object):
    def __init__(self, lib):
        nn = lib.nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("mem", lib.zeros(4, 3))
                self.lin = nn.Linear(3, 3)
                self.head = self.mem[0]     # a plain attribute: a view of the buffer

            def forward(self, x):
                with lib.no_grad():
                    self.mem.mul_(0.5)
                    self.mem[0].add_(x.detach().mean(0))
                return self.lin(x) + self.head

        self.module = M()
        with lib.no_grad():
            for p in self.module.parameters():
                p.copy_(lib.arange(p.numel()).float().view(p.shape) / 10)


def module_buffer_view(lib):
    m = _Memory(lib).module
    return (lambda x: m(lib.ones(2, 3) * x).sum()), lambda: (m.mem, m.head)


@pytest.mark.parametrize("program", [two_views, write_base_then_view, view_of_a_view,
                                     detached_alias, transposed_view, module_buffer_view])
def test_a_captured_view_shows_the_calls_writes(program):
    want = _run(torch, program)
    got = _run(graphnet, program)
    for call, (w, g) in enumerate(zip(want, got)):
        for a, b in zip(w, g):
            np.testing.assert_allclose(b, a, rtol=1e-6, err_msg=f"call {call}")


def test_a_change_between_calls_reaches_the_view():
    """The view's source changed eagerly between two compiled calls."""
    results = {}
    for lib in (torch, graphnet):
        base = lib.arange(6.).view(2, 3)
        rows, col = base[1], base[:, 2]

        def f(x):
            rows.mul_(x)
            return col * 1

        fn = graphnet.compile(f) if lib is graphnet else f
        out = [fn(lib.tensor(2.)).tolist()]
        base.fill_(1.)
        out.append(fn(lib.tensor(3.)).tolist())
        out.append(base.tolist())
        results[lib.__name__] = out
    assert results["graphnet"] == results["torch"]
