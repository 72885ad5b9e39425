"""A tensor argument's `.grad` read or written inside a compiled function follows the
argument of each call, as eagerly and in PyTorch (compiler/arg_grads.py). Before, the program
was tied to the first call's tensor: `x + x.grad` returned the first call's sum on every later
call, and `backward()` accumulated into that first tensor's `.grad`."""

import numpy as np
import pytest
import torch

import graphnet

GRADS = (None, 10.0, 20.0, None, 30.0)


def _arg(T, value, grad):
    t = T.full((2,), value, requires_grad=True)
    if grad is not None:
        t.grad = T.full((2,), grad)
    return t


def _runs(make_fn, calls):
    """For torch, graphnet eager and graphnet compiled: `make_fn(T)` called on each call's
    arguments (`calls`: (value, grad) per call); the result and the argument's .grad after."""
    out = {}
    for label, T, wrap in (("torch", torch, None), ("eager", graphnet, None),
                           ("static", graphnet, graphnet.compile)):
        fn = make_fn(T)
        fn = wrap(fn) if wrap else fn
        rows = []
        for value, grad in calls:
            x = _arg(T, value, grad)
            r = fn(x)
            rows.append((None if r is None else np.asarray(r.detach().tolist()),
                         None if x.grad is None else np.asarray(x.grad.tolist())))
        out[label] = rows
    return out


def _assert_same(out):
    for label in ("eager", "static"):
        for k, (got, want) in enumerate(zip(out[label], out["torch"])):
            for g, w in zip(got, want):
                assert (g is None) == (w is None), (label, k, got, want)
                if w is not None:
                    np.testing.assert_allclose(g, w, rtol=1e-6, err_msg=f"{label} call {k}")


def test_reading_an_arguments_grad_follows_each_call():
    _assert_same(_runs(lambda T: lambda x: x + x.grad if x.grad is not None else x * 1,
                       [(1.0, g) for g in GRADS]))


def test_backward_accumulates_into_each_calls_argument():
    def make(T):
        def f(x):
            (x * 3).sum().backward()
        return f
    _assert_same(_runs(make, [(1.0, g) for g in (None, None, 1.0, 2.0, None, 5.0)]))


def test_manual_update_from_the_arguments_grad():
    def make(T):
        def upd(p):
            with T.no_grad():
                p -= 0.1 * p.grad
            return p
        return upd
    _assert_same(_runs(make, [(1.0, g) for g in (1.0, 2.0, 3.0)]))


@pytest.mark.parametrize("how", ["inplace", "replace", "none", "new"])
def test_writing_an_arguments_grad(how):
    def make(T):
        def f(x):
            if how == "inplace":
                x.grad.mul_(2)
            elif how == "replace":
                x.grad = x.grad * 3
            elif how == "none":
                x.grad = None
            else:
                x.grad = x * 4
            return x * 1
        return f
    grads = (1.0, 2.0, 5.0) if how != "new" else (None, None, None)
    _assert_same(_runs(make, [(float(k + 1), g) for k, g in enumerate(grads)]))


def test_a_replaced_grad_leaves_the_callers_old_grad_tensor_alone():
    f = graphnet.compile(lambda x: x.__setattr__("grad", x.grad * 3) or x * 1)
    for g in (1.0, 2.0):
        x = _arg(graphnet, 1.0, g)
        old = x.grad
        f(x)
        assert old.tolist() == [g, g] and x.grad.tolist() == [3 * g, 3 * g]


def test_returned_grad_is_the_arguments_grad():
    def f(x):
        (x * x).sum().backward()
        return x.grad
    cf = graphnet.compile(f)
    for v in (1.0, 2.0, 3.0):
        x = _arg(graphnet, v, None)
        g = cf(x)
        assert g is x.grad and g.tolist() == [2 * v, 2 * v]


def test_input_gradient_attack_compiles_once():
    """FGSM: `x + eps * x.grad.sign()` on a fresh input each call, as torch computes it; one
    program for every later call (before, each call failed a guard on the first call's
    tensor); the second call compiles once more because the model's own .grad is set now."""
    rng = np.random.default_rng(0)
    tm = torch.nn.Linear(4, 3)
    gm = graphnet.nn.Linear(4, 3)
    gm.load_state_dict({k: graphnet.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})

    def make(T, m):
        def attack(x, y):
            x.requires_grad_(True)
            T.nn.functional.cross_entropy(m(x), y).backward()
            return x + 0.1 * x.grad.sign()
        return attack

    ta, ga = make(torch, tm), graphnet.compile(make(graphnet, gm))
    for _ in range(4):
        xn = rng.standard_normal((2, 4)).astype(np.float32)
        yn = np.array([0, 2])
        xt, xg = torch.tensor(xn), graphnet.tensor(xn)
        want, got = ta(xt, torch.tensor(yn)), ga(xg, graphnet.tensor(yn))
        np.testing.assert_allclose(got.tolist(), want.detach().tolist(), rtol=1e-6)
        np.testing.assert_allclose(xg.grad.tolist(), xt.grad.tolist(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(gm.weight.grad.tolist(), tm.weight.grad.tolist(),
                                   rtol=1e-5, atol=1e-7)
    assert ga.compiled.recompile_reasons == ["first call", "guard failed: weight.grad is None"]
