"""graphnet.func.vmap inside graphnet.compile (compiler/vmap_trace.py): traced on one sample
into a `vmap` node, lowered to jax.vmap of its sub-graph. Values, gradients and errors as
PyTorch's torch.func.vmap gives them; before, static mode refused every vmap."""
import numpy as np
import pytest
import torch

import graphnet as G
from graphnet import TraceError

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 4)).astype(np.float32)
XS = RNG.standard_normal((3, 5, 4)).astype(np.float32)
Y = np.array([0, 2, 1, 1, 0])


def _models(lib, n=3):
    rng = np.random.default_rng(0)
    models = [lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.Tanh(), lib.nn.Linear(6, 3))
              for _ in range(n)]
    for m in models:
        m.load_state_dict({k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype(
            np.float32) * 0.5) for k, v in m.state_dict().items()})
    return models


def _numpy(tree):
    if isinstance(tree, dict):
        return {k: _numpy(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return [_numpy(v) for v in tree]
    return tree.detach().numpy()


def _close(got, want, atol=1e-5):
    if isinstance(want, dict):
        assert got.keys() == want.keys()
        for k in want:
            _close(got[k], want[k], atol)
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w, atol)
    else:
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol)


def _programs(lib):
    """name -> function of (x, xs, y) using lib.func.vmap, and what it needs."""
    fn, F = lib.func, lib.nn.functional
    models = _models(lib)
    params, buffers = fn.stack_module_state(models)
    base = models[0]
    named = {k: v.detach() for k, v in models[1].named_parameters()}

    def per_sample_grads(x, xs, y):
        def loss(p, r, t):
            return F.cross_entropy(fn.functional_call(models[1], p, (r.unsqueeze(0),)),
                                   t.unsqueeze(0))
        return fn.vmap(fn.grad(loss), in_dims=(None, 0, 0))(named, x, y)

    def ensemble(x, xs, y):
        return fn.vmap(lambda p, b, r: fn.functional_call(base, (p, b), (r,)),
                       in_dims=(0, 0, None))(params, buffers, x)

    def ensemble_out_dim(x, xs, y):
        return fn.vmap(lambda p, b, r: fn.functional_call(base, (p, b), (r,)),
                       in_dims=(0, 0, 0), out_dims=1)(params, buffers, xs)

    def nested(x, xs, y):
        return fn.vmap(fn.vmap(lambda a, b: (a * b).sum()), in_dims=(0, None))(xs, x)

    def jacobians(x, xs, y):
        return fn.vmap(fn.jacrev(lambda r: models[2](r).tanh()))(x)

    def shared_output(x, xs, y):
        return fn.vmap(lambda r: (r.sum(), models[2][0].weight.sum()), out_dims=(0, None))(x)

    def grad_of_vmap(x, xs, y):
        w = models[0][0].weight
        out = fn.vmap(lambda r: (w @ r).sin().sum())(x)
        return lib.autograd.grad(out.pow(2).sum(), w)[0]

    return {k: v for k, v in locals().items() if callable(v) and k[0] != "_"
            and k not in ("fn", "F", "base")}


NAMES = sorted(_programs(torch))


@pytest.mark.parametrize("name", NAMES)
def test_compiled_vmap_matches_torch(name):
    want = _numpy(_programs(torch)[name](torch.tensor(X), torch.tensor(XS), torch.tensor(Y)))
    compiled = G.compile(_programs(G)[name])
    got = _numpy(compiled(G.tensor(X), G.tensor(XS), G.tensor(Y)))
    _close(got, want)
    assert any(node.op == "vmap" for node in compiled.graph.nodes)


def _train(lib, static: bool, steps: int = 3):
    """An ensemble trained through vmap: loss.backward() reaches the stacked parameters;
    a closure's scale changes between calls."""
    fn, F = lib.func, lib.nn.functional
    models = _models(lib)
    params, buffers = fn.stack_module_state(models)
    opt = lib.optim.SGD(list(params.values()), lr=0.1, momentum=0.9)
    scale = [1.0]

    def step(x, y):
        out = fn.vmap(lambda p, b, r: fn.functional_call(models[0], (p, b), (r,)) * scale[0],
                      in_dims=(0, 0, None))(params, buffers, x)
        loss = F.cross_entropy(out.mean(0), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.detach()

    run = G.compile(step) if static else step
    losses = []
    for i in range(steps):
        scale[0] = 1.0 + i
        losses.append(float(run(lib.tensor(X), lib.tensor(Y))))
    return losses, _numpy(params)


def test_training_through_vmap_matches_torch():
    want_losses, want_params = _train(torch, False)
    for static in (False, True):
        losses, params = _train(G, static)
        np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
        _close(params, want_params)


def _error(fn):
    try:
        fn()
    except Exception as err:   # noqa: BLE001 - the type is what is compared
        return type(err), str(err).split("\n")[0]
    return None


ERRORS = {
    # (graphnet program, exception type static mode raises, words of its message)
    "label_computed_inside": (lambda x, y: G.func.vmap(
        lambda r, t: G.nn.functional.cross_entropy((r[:3])[None], (t + 1)[None]))(x, y),
        TraceError, "Compute the labels before the vmap"),
    "bad_computed_label": (lambda x, y: G.func.vmap(
        lambda r, t: G.nn.functional.cross_entropy((r[:3])[None], t[None]))(x, y + 2),
        IndexError, "Target 4 is out of bounds"),
    "random": (lambda x, y: G.func.vmap(lambda r: G.nn.functional.dropout(r, 0.5))(x),
               RuntimeError, "randomness error mode"),
    "item": (lambda x, y: G.func.vmap(lambda r: r * r.sum().item())(x),
             RuntimeError, "calling .item()"),
    "branch": (lambda x, y: G.func.vmap(lambda r: r if r.sum() > 0 else -r)(x),
               RuntimeError, "data-dependent control flow"),
    "out_dims_none": (lambda x, y: G.func.vmap(lambda r: r * 2, out_dims=None)(x),
                      ValueError, "can not return a BatchedTensor when out_dim is None"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_compiled_vmap_errors(name):
    program, kind, words = ERRORS[name]
    got = _error(lambda: G.compile(program)(G.tensor(X), G.tensor(Y)))
    assert got is not None and issubclass(got[0], kind) and words in got[1], got


def test_bad_label_of_an_input_raises_as_in_pytorch():
    """Labels the compiled function receives are checked on the host, one sample at a time,
    before the program runs: a bad one raises PyTorch's IndexError, never a clamped loss."""
    def per_sample(x, y):
        return G.func.vmap(lambda r, t: G.nn.functional.cross_entropy(r[None], t[None]))(x, y)

    compiled = G.compile(per_sample)
    good = compiled(G.tensor(X), G.tensor(np.array([0, 3, 1, 2, 0])))
    eager = per_sample(G.tensor(X), G.tensor(np.array([0, 3, 1, 2, 0])))
    np.testing.assert_allclose(good.numpy(), eager.numpy(), rtol=1e-6)
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        compiled(G.tensor(X), G.tensor(np.array([0, 1, 4, 1, 0])))
    with pytest.raises(RuntimeError, match="index 4 is out of bounds"):   # its decomposition's
        torch.func.vmap(lambda r, t: torch.nn.functional.cross_entropy(r[None], t[None]))(
            torch.tensor(X), torch.tensor([0, 1, 4, 1, 0]))


def test_write_to_outside_tensor_refused():
    bn = G.nn.BatchNorm1d(4)
    with pytest.raises(RuntimeError, match="in-place updates"):
        G.compile(lambda x: G.func.vmap(lambda r: bn(r.expand(2, 4)))(x))(G.tensor(X))
    assert float(bn.running_mean.abs().sum()) == 0.0


def test_detached_alias_inside_a_branch():
    """A tensor a sub-graph makes as an alias of an outer one (`w.detach()`) is captured by
    that sub-graph; it was read from the enclosing graph, and the first call failed with a
    KeyError while lowering. Its result requires no grad, as in eager mode."""
    w = G.tensor(X[0], requires_grad=True)

    def f(x):
        return G.cond(x.sum() > 0, lambda t: t * w.detach(), lambda t: t - w.detach(), x)

    x = G.tensor(X[1])
    got, want = G.compile(f)(x), f(x)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert not got.requires_grad and not want.requires_grad
    v = G.compile(lambda x: G.func.vmap(lambda r: r * w.detach())(x))(G.tensor(X[:, :4]))
    assert not v.requires_grad


def test_shared_labels_checked_once():
    """Labels every sample shares (in_dims None) are checked too; a mapped axis other than 0
    is sliced where vmap slices it."""
    def f(x, y):
        return G.func.vmap(lambda r, t: G.nn.functional.cross_entropy(r[None, :4].expand(5, 4), t),
                           in_dims=(1, None))(x, y)

    compiled = G.compile(f)
    x = G.tensor(X)
    np.testing.assert_allclose(compiled(x, G.tensor(Y)).numpy(), f(x, G.tensor(Y)).numpy(),
                               rtol=1e-6)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        compiled(x, G.tensor(np.array([0, 1, 7, 1, 0])))
    g = G.compile(lambda x, y: G.func.vmap(lambda r, t: r[t], in_dims=(1, 0))(x, y))
    np.testing.assert_allclose(g(x, G.tensor(np.array([0, 4, 1, 2]))).numpy(),
                               X[[0, 4, 1, 2], [0, 1, 2, 3]])
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        g(x, G.tensor(np.array([0, 5, 1, 2])))


def test_autograd_grad_through_cond_matches_torch():
    """autograd.grad (and a gradient of that gradient) through a `cond` node: its VJP is
    jax.vjp of lax.cond over the lowered branches; it was refused like a while_loop."""
    w0, x0 = X[0, :3], np.abs(X[1, :3]) + 0.1

    def run(lib, static):
        w = lib.tensor(w0, requires_grad=True)

        def g(x):
            if lib is torch:
                y = (x * w).exp() if x.sum() > 0 else x * w * 2
            else:
                y = G.cond(x.sum() > 0, lambda t: (t * w).exp(), lambda t: t * w * 2, x)
            gw, = lib.autograd.grad(y.sum(), w, create_graph=True)
            return gw, lib.autograd.grad(gw.pow(2).sum(), w)[0]

        return _numpy((G.compile(g) if static else g)(lib.tensor(x0)))

    want = run(torch, False)
    _close(run(G, True), want)
    _close(run(G, False), want)


@pytest.mark.parametrize("mode", ["static", "plan"])
def test_labels_computed_before_vmap_are_checked_in_the_program(mode):
    """Labels the program computes before the vmap (`y[:, 0].long()`) are checked inside
    the program, for every sample: a bad one raises PyTorch's error and the step writes
    nothing back. They were refused (TraceError)."""
    def run(lib, compiled):
        rng = np.random.default_rng(0)
        m = lib.nn.Linear(4, 3)
        m.load_state_dict({k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype(
            np.float32)) for k, v in m.state_dict().items()})
        opt = lib.optim.SGD(m.parameters(), lr=0.1)

        def step(x, y):
            out = lib.func.vmap(lambda r, t: lib.nn.functional.cross_entropy(m(r)[None],
                                                                           t[None]))(
                x, y[:, 0].long())
            loss = out.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        run_step = G.compile(step, mode=mode) if compiled else step
        labels = np.array([[0.], [2.], [1.], [1.], [0.]], np.float32)
        losses = [float(run_step(lib.tensor(X), lib.tensor(labels))) for _ in range(2)]
        return losses, m.weight.detach().numpy().copy(), run_step, m

    want, want_w, _, _ = run(torch, False)
    got, got_w, compiled, m = run(G, True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
    bad = np.array([[0.], [2.], [3.], [1.], [0.]], np.float32)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        compiled(G.tensor(X), G.tensor(bad))
    np.testing.assert_array_equal(m.weight.detach().numpy(), got_w)   # nothing written back
