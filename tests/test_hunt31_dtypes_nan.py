"""Dtype and NaN cases the thirty-first session's hunt found: each compared with torch 2.13
in dynamic mode and in a compiled call."""

import numpy as np
import pytest
import torch

import graphnet as gn

_NAN = float("nan")
_MASKED = {
    "abs": lambda L, F, p, t: (p - t).abs(),
    "l1_loss": lambda L, F, p, t: F.l1_loss(p, t, reduction="none"),
    "elu": lambda L, F, p, t: F.elu(p - t),
    "selu": lambda L, F, p, t: F.selu(p - t),
    "celu": lambda L, F, p, t: F.celu(p - t, 0.5),
    "hardswish": lambda L, F, p, t: F.hardswish(p - t),
}


@pytest.mark.parametrize("name", sorted(_MASKED))
@pytest.mark.parametrize("compiled", [False, True])
def test_a_nan_target_masked_by_where_gives_no_nan_gradient(name, compiled):
    def grads(L, F, static):
        p = L.tensor([1., 2., 3., -4., 5.], requires_grad=True)
        t = L.tensor([0.5, _NAN, 3.5, 0., 0.])

        def loss(p, t):
            return L.where(t.isnan(), L.zeros_like(p), _MASKED[name](L, F, p, t)).sum()

        value = (gn.compile(loss) if static else loss)(p, t)
        value.backward()
        return value.item(), p.grad.tolist()

    expected = grads(torch, torch.nn.functional, False)
    got = grads(gn, gn.nn.functional, compiled)
    assert got[0] == pytest.approx(expected[0], rel=1e-6)
    assert got[1] == pytest.approx(expected[1], rel=1e-6, abs=1e-7)


def _assign(L, b):
    b = b.clone()
    b[b > 0] = 2.9
    c = b > 0
    c[c] = 0.0
    d = b.to(L.uint8)
    d[d > 1] = -1
    return b, c, d


@pytest.mark.parametrize("compiled", [False, True])
def test_a_python_number_written_through_a_mask_takes_the_tensor_dtype(compiled):
    expected = [t.tolist() for t in _assign(torch, torch.tensor([1, -2, 3]))]
    fn = gn.compile(lambda b: _assign(gn, b)) if compiled else (lambda b: _assign(gn, b))
    assert [t.tolist() for t in fn(gn.tensor([1, -2, 3]))] == expected
    d = gn.tensor([1, 2], dtype=gn.uint8)
    with pytest.raises(RuntimeError, match="without overflow"):
        d[d > 0] = 300


def test_folded_clamp_of_uint8_wraps_its_bound_as_at_run_time():
    def clamps(L):
        x = L.full((3,), 200, dtype=L.uint8)
        return x.clamp(min=-1), x.clamp(max=-1)

    expected = [t.tolist() for t in clamps(torch)]
    assert [t.tolist() for t in gn.compile(lambda: clamps(gn))()] == expected


def test_index_fill_and_scatter_wrap_a_python_int_under_compile():
    def fills(L, x):
        return x.index_fill(0, L.tensor([0]), -1), x.scatter(0, L.tensor([1]), -1)

    expected = [t.tolist() for t in fills(torch, torch.tensor([0, 1, 2], dtype=torch.uint8))]
    got = gn.compile(lambda x: fills(gn, x))(gn.tensor([0, 1, 2], dtype=gn.uint8))
    assert [t.tolist() for t in got] == expected


@pytest.mark.parametrize("op", ["//", "%", "fmod", "floor", "trunc"])
@pytest.mark.parametrize("compiled", [False, True])
def test_an_integer_divisor_that_wraps_to_zero_raises(op, compiled):
    def divide(x):
        if op == "//":
            return x // 256
        if op == "%":
            return x % 256
        if op == "fmod":
            return gn.fmod(x, 256)
        return gn.div(x, 256, rounding_mode=op)

    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.tensor([200, 7], dtype=torch.uint8) // 256
    fn = gn.compile(divide) if compiled else divide
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(gn.tensor([200, 7], dtype=gn.uint8))
    assert (gn.tensor([200, 7], dtype=gn.uint8) // 257).tolist() == [200, 7]


@pytest.mark.parametrize("half", ["bfloat16"])
def test_a_compiled_reduction_reads_the_rounded_half_values(half):
    x = (np.random.RandomState(0).randn(64, 64) * 3).astype(np.float32)

    def reductions(L, a):
        h = a.to(getattr(L, half))
        return h.float().sum(), (h * 1.7).float().amax(1), h.exp().float().mean(1)

    expected = reductions(torch, torch.tensor(x))
    got = gn.compile(lambda a: reductions(gn, a))(gn.tensor(x))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=2e-6, atol=1e-6)
