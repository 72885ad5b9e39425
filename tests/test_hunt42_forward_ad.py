"""`autograd.forward_ad` (dual tensors) and `func.linearize`, once refused with a reason:
PyTorch's forward-mode AD tutorial runs, with tangents equal to PyTorch's, eagerly and inside
graphnet.compile; a loss on a tangent differentiates back to the parameters."""
import numpy as np
import pytest
import torch

import graphnet as G

X = (np.arange(12.0).reshape(3, 4) / 10).astype(np.float32)
W = [[0.1, 0.2, 0.3, 0.4], [-0.5, 0.1, 0.0, 0.2]]


def _tutorial(lib):
    fwAD = lib.autograd.forward_ad
    primal, tangent = lib.tensor(X), lib.full((3, 4), 0.5)
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual).tangent is tangent
        plain = lib.ones(3, 4)
        out = (dual ** 2 + plain ** 2).tanh()
        jvp = fwAD.unpack_dual(out).tangent
        assert fwAD.unpack_dual(plain).tangent is None
        assert torch.allclose(torch.tensor(fwAD.unpack_dual(out).primal.tolist()),
                              torch.tensor(out.tolist()))
    assert fwAD.unpack_dual(out).tangent is None        # the level closed
    return jvp


def _module_jvp(lib):
    fwAD = lib.autograd.forward_ad
    model = lib.nn.Sequential(lib.nn.Linear(4, 2), lib.nn.Tanh())
    with lib.no_grad():
        model[0].weight.copy_(lib.tensor(W))
        model[0].bias.fill_(0.1)
    params = dict(model.named_parameters())
    with fwAD.dual_level():
        duals = {n: fwAD.make_dual(p, lib.ones_like(p)) for n, p in params.items()}
        out = lib.func.functional_call(model, duals, (lib.tensor(X),))
        tangent = fwAD.unpack_dual(out).tangent
        (tangent ** 2).sum().backward()      # a loss on the tangent reaches the parameters
    return tangent, model[0].weight.grad


def test_tutorial_tangent_matches_torch():
    want = _tutorial(torch)
    got = _tutorial(G)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_module_parameters_as_duals_and_backward_through_the_tangent():
    want_t, want_g = _module_jvp(torch)
    got_t, got_g = _module_jvp(G)
    np.testing.assert_allclose(got_t.detach().numpy(), want_t.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(got_g.numpy(), want_g.numpy(), rtol=1e-5)


def test_inside_a_compiled_function():
    fwAD = G.autograd.forward_ad

    @G.compile
    def jvp_of_sin(x, v):
        with fwAD.dual_level():
            return fwAD.unpack_dual(G.sin(fwAD.make_dual(x, v)) * 3).tangent

    for scale in (1.0, 2.0):
        got = jvp_of_sin(G.tensor(X), G.full((3, 4), scale))
        np.testing.assert_allclose(got.numpy(), 3 * np.cos(X) * scale, rtol=1e-6)


@pytest.mark.parametrize("case, error", [
    ("no level", RuntimeError), ("size", RuntimeError), ("int tangent", ValueError),
    ("int primal", ValueError)])
def test_errors_as_torch(case, error):
    def run(lib):
        fwAD = lib.autograd.forward_ad
        if case == "no level":
            return fwAD.make_dual(lib.ones(3), lib.ones(3))
        with fwAD.dual_level():
            if case == "size":
                fwAD.make_dual(lib.ones(3), lib.ones(4))
            elif case == "int tangent":
                fwAD.make_dual(lib.ones(3), lib.ones(3, dtype=lib.int64))
            else:
                fwAD.make_dual(lib.arange(3), lib.ones(3))

    with pytest.raises(error) as want:
        run(torch)
    with pytest.raises(error) as got:
        run(G)
    assert str(got.value).split(",")[0] == str(want.value).split(",")[0]


@pytest.mark.parametrize("compiled", [False, True])
def test_linearize(compiled):
    def fn(x, y):
        return x.sin() * y

    def run(lib):
        x, y = lib.tensor(X), lib.tensor(X[::-1].copy())
        out, jvp_fn = lib.func.linearize(fn, x, y)
        x.mul_(0)       # PyTorch's jvp_fn reads the primal tensors themselves
        return out, [jvp_fn(lib.ones(3, 4), lib.full((3, 4), s)) for s in (1.0, -2.0)]

    want_out, want = run(torch)
    got_out, got = (G.compile(lambda: run(G)) if compiled else (lambda: run(G)))()
    np.testing.assert_allclose(got_out.numpy(), want_out.numpy(), rtol=1e-6)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)
