"""`nn.Module.compile()` (torch >= 2.2) compiles a module in place; `Tensor.copy_` takes
`non_blocking`; `with no_grad(): buf.copy_(h)` copies values only (it gave `buf` h's
history: a silent gradient through a constant in eager mode)."""
import copy
import warnings

import numpy as np
import pytest
import torch

import graphnet as G

X = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)


def _net(lib):
    rng = np.random.default_rng(1)
    m = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.BatchNorm1d(5), lib.nn.ReLU(),
                          lib.nn.Linear(5, 2))
    m.load_state_dict({k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32))
                       if v.dtype == lib.float32 else v for k, v in m.state_dict().items()})
    return m


def _train(lib):
    m = _net(lib)
    m.compile()
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    out = []
    for _ in range(3):
        loss = m(lib.tensor(X)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(float(loss))
    m.eval()
    out.append(float(m(lib.tensor(X)).sum()))
    return out, m[0].weight.detach().numpy(), m[1].running_mean.numpy()


def test_module_compile_trains_like_torch():
    want = _train(torch)
    got = _train(G)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-5, atol=1e-6)


def test_module_compile_runs_compiled_and_inlines_in_a_trace():
    m = _net(G)
    m.compile(cache_size=1)
    m(G.tensor(X))
    handle = m.__dict__["_compiled_call"]
    assert handle.compiled.recompile_reasons == ["first call"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # the cache limit: later shapes run eagerly
        out = m(G.tensor(X[:2]))           # no recursion through the fallback
    assert tuple(out.shape) == (2, 2)
    step = G.compile(lambda x: m(x).sum())
    np.testing.assert_allclose(float(step(G.tensor(X))), float(m(G.tensor(X)).sum()),
                               rtol=1e-5)
    assert set(m.state_dict()) == set(_net(G).state_dict())
    assert copy.deepcopy(m)(G.tensor(X)).shape == (4, 2)


@pytest.mark.parametrize("static", [False, True])
def test_copy_under_no_grad_copies_values_only(static):
    def run(lib, compiled):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        buf = lib.zeros(3)

        def f(w, buf):
            h = w * 2
            with lib.no_grad():
                buf.copy_(h, non_blocking=True)
            (buf * w).sum().backward()

        (G.compile(f) if compiled else f)(w, buf)
        return buf.requires_grad, w.grad.tolist(), buf.tolist()

    assert run(G, static) == run(torch, False)


def test_refused_tensor_method_says_why():
    t = G.zeros(2)
    with pytest.raises(AttributeError, match=r"'set_' \(storages.*use `.clone\(\)`"):
        _ = t.set_
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'frob'$"):
        _ = t.frob
    assert getattr(t, "frob", 3) == 3 and not hasattr(t, "_frob")
