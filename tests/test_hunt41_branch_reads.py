"""Python reads of tensor values in places the tracer hands on: a buffer's `.item()` inside a
cond branch, a while_loop body or a vmapped function is guarded by the enclosing trace (it
was kept by the branch's tracer, never checked, and later calls reused the first value); a
0-d tensor given where an op takes a number is read as PyTorch reads it, on every call."""
import pytest
import torch

import graphnet as G


def _module():
    m = G.nn.Module()
    m.register_buffer("s", G.tensor(2.0))
    return m


def _cond(m):
    return lambda x: G.cond(x.sum() > 0, lambda t: t * m.s.item(), lambda t: -t, (x,))


def _loop(m):
    return lambda x: G.while_loop(lambda t: t.sum() < 100, lambda t: t * m.s.item(), (x,))[0]


def _vmap(m):
    return lambda x: G.func.vmap(lambda r: r * m.s.item())(x)


@pytest.mark.parametrize("build, want", [(_cond, [2.0, 2.0, 3.0]), (_loop, [32.0, 32.0, 27.0]),
                                         (_vmap, [2.0, 2.0, 3.0])])
def test_item_read_in_a_branch_follows_the_buffer(build, want):
    m = _module()
    fn = G.compile(build(m))
    got = []
    for call in range(3):
        if call == 2:
            m.s.fill_(3.0)
        got.append(fn(G.ones(2, 2)).flatten()[0].item())
    assert got == want


@pytest.mark.parametrize("static", [False, True])
def test_zero_dim_tensor_arguments_are_read_on_every_call(static):
    got = {}
    for lib in (torch, G):
        alpha = lib.tensor(0.5)
        F = lib.nn.functional

        def f(x):
            return F.elu(x, alpha=alpha), F.pad(x, (1, 1), value=alpha)

        fn = G.compile(f) if static and lib is G else f
        x = lib.tensor([-1.0, 2.0])
        first = [v for t in fn(x) for v in t.tolist()]
        alpha.fill_(2.0)
        got[lib.__name__] = first + [v for t in fn(x) for v in t.tolist()]
    assert got["graphnet"] == pytest.approx(got["torch"], rel=1e-6)
    assert got["graphnet"][6] == pytest.approx(-1.2642411)   # the second call's alpha


@pytest.mark.parametrize("name, call", [
    ("leaky_relu", lambda F, x, t: F.leaky_relu(x, t)),
    ("hardtanh", lambda F, x, t: F.hardtanh(x, -t, t)),
    ("rrelu", lambda F, x, t: F.rrelu(x, t, t, training=False)),
    ("threshold", lambda F, x, t: F.threshold(x, t, t * 2)),
])
def test_activation_numbers_given_as_zero_dim_tensors(name, call):
    want = call(torch.nn.functional, torch.tensor([-2.0, 0.5]), torch.tensor(0.3))
    got = call(G.nn.functional, G.tensor([-2.0, 0.5]), G.tensor(0.3))
    assert got.tolist() == pytest.approx(want.tolist(), rel=1e-6)
