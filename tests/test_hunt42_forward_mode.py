"""graphnet's forward mode (func.jvp, autograd.functional.jvp/hvp) is the derivative of a
backward in its incoming gradient, at 0. Backwards that were flat or NaN there gave silently
wrong tangents: xlogy/xlog1py's d/dx was 0, logcumsumexp's tangent NaN."""
import numpy as np
import pytest
import torch

import graphnet as G


def _jvp(lib, fn, x, v, compiled=False):
    run = (lambda a, b: lib.func.jvp(fn, (a,), (b,))[1])
    run = G.compile(run) if compiled else run
    return run(lib.tensor(x), lib.tensor(v)).tolist()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", ["xlogy", "special.xlog1py"])
def test_xlogy_tangent_in_its_first_argument(compiled, name):
    def fn_of(lib):
        op = lib
        for part in name.split("."):
            op = getattr(op, part)
        return lambda a: op(a, lib.tensor([3.0, 0.5, 2.0]))

    x, v = [0.5, 2.0, 1.5], [1.0, -2.0, 0.25]
    want = _jvp(torch, fn_of(torch), x, v)
    got = _jvp(G, fn_of(G), x, v, compiled)
    assert got == pytest.approx(want, rel=1e-6)


def test_xlogy_hvp():
    y = [3.0, 0.5, 2.0]

    def f(lib):
        return lambda a: (lib.xlogy(a, lib.tensor(y)) ** 2).sum()

    x, v = [0.5, 2.0, 1.5], [1.0, -2.0, 0.25]
    _, want = torch.autograd.functional.hvp(f(torch), torch.tensor(x), torch.tensor(v))
    _, got = G.autograd.functional.hvp(f(G), G.tensor(x), G.tensor(v))
    assert got.tolist() == pytest.approx(want.tolist(), rel=1e-5)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp_tangent(compiled, dim):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4)).astype(np.float32).tolist()
    v = rng.normal(size=(3, 4)).astype(np.float32).tolist()
    want = np.array(_jvp(torch, lambda a: torch.logcumsumexp(a, dim), x, v))
    got = np.array(_jvp(G, lambda a: G.logcumsumexp(a, dim), x, v, compiled))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_logcumsumexp_forward_over_reverse():
    x, v = [0.3, -1.0, 2.0], [1.0, 1.0, 1.0]

    def grad_of(lib):
        return lib.func.grad(lambda a: (lib.logcumsumexp(a, 0) ** 2).sum())

    want = torch.func.jvp(grad_of(torch), (torch.tensor(x),), (torch.tensor(v),))[1]
    got = G.func.jvp(grad_of(G), (G.tensor(x),), (G.tensor(v),))[1]
    assert got.tolist() == pytest.approx(want.tolist(), rel=1e-5)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("api", ["jvp", "jacfwd", "hessian"])
def test_no_grad_inside_forward_mode_is_refused_not_cut(compiled, api):
    """PyTorch's forward mode ignores no_grad; graphnet's (reverse mode underneath) would lose
    the tangent there (torch tangent 3, graphnet 1): it raises instead."""
    def f(a):
        with G.no_grad():
            b = a * 2
        return (b + a).sum() if api == "hessian" else b + a

    def run(x):
        if api == "jvp":
            return G.func.jvp(f, (x,), (G.ones(3),))[1]
        return getattr(G.func, api)(f)(x)

    run = G.compile(run) if compiled else run
    with pytest.raises(RuntimeError, match=r"ran under no_grad\(\) .* forward-mode transform"):
        run(G.ones(3))


def test_no_grad_on_other_tensors_inside_jvp_runs():
    scale = G.tensor([2.0], requires_grad=True)   # not an input of the transform

    def f(a):
        with G.no_grad():
            s = scale * 3
        return a * s + a.detach() * 0

    assert G.func.jvp(f, (G.ones(2),), (G.ones(2),))[1].tolist() == [6.0, 6.0]
    with G.no_grad():   # and no_grad outside any transform is untouched
        assert (scale * 2).tolist() == [4.0]
