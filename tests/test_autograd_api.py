"""graphnet.autograd.grad / backward, create_graph, hooks and retain_grad against torch, eagerly
and (where static mode supports it) inside graphnet.compile."""

import numpy as np
import pytest
import torch

import graphnet
from graphnet import TraceError

RNG = np.random.default_rng(0)
W = [RNG.standard_normal(s).astype(np.float32) for s in [(8, 4), (8,), (1, 8), (1,)]]
REAL, FAKE = (RNG.standard_normal((5, 4)).astype(np.float32) for _ in range(2))
ALPHA = RNG.random((5, 1)).astype(np.float32)


def critic(lib):
    D = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1))
    with lib.no_grad():
        for p, w in zip(D.parameters(), W):
            p.copy_(lib.tensor(w))
    return D


def wgan_step(lib, D, real, fake, alpha):
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    g = lib.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)[0]
    penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
    loss = D(fake).mean() - D(real).mean() + 10 * penalty
    loss.backward()
    return loss


def grads_of(module):
    return [p.grad.detach().numpy() for p in module.parameters()]


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_wgan_gradient_penalty_matches_torch(mode):
    D_t = critic(torch)
    want = wgan_step(torch, D_t, *(torch.tensor(a) for a in (REAL, FAKE, ALPHA)))
    D = critic(graphnet)
    step = lambda *a: wgan_step(graphnet, D, *a)  # noqa: E731
    fn = graphnet.compile(step) if mode == "static" else step
    for _ in range(2):    # the second compiled call runs the cached program
        for p in D.parameters():
            p.grad = None
        got = fn(*(graphnet.tensor(a) for a in (REAL, FAKE, ALPHA)))
        np.testing.assert_allclose(float(got), float(want), rtol=1e-5)
        for a, b in zip(grads_of(D), grads_of(D_t)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def penalty_only_step(lib, first, second, opt, x):
    """A penalty on the input gradient alone: the last layer's bias does not reach it."""
    opt.zero_grad()
    (gx,) = lib.autograd.grad(second(lib.tanh(first(x))).sum(), x, create_graph=True)
    penalty = (gx ** 2).sum()
    penalty.backward()
    opt.step()
    return penalty


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_a_parameter_the_gradient_penalty_does_not_read_keeps_grad_none(mode):
    """PyTorch's second backward never reaches a linear's bias (the input gradient is g @ W),
    so its .grad stays None and SGD with momentum and weight decay leaves it alone. graphnet
    gave it a zero gradient, which weight decay then moved (autograd/_graph.reaching)."""
    rng = np.random.default_rng(4)
    results = []
    for lib, run in ((torch, None), (graphnet, mode)):
        first, second = lib.nn.Linear(2, 2), lib.nn.Linear(2, 1)
        params = [*first.parameters(), *second.parameters()]
        with lib.no_grad():
            for p in params:
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        rng = np.random.default_rng(4)
        opt = lib.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1)
        step = lambda x, lib=lib, opt=opt, f=first, s=second: penalty_only_step(  # noqa: E731
            lib, f, s, opt, x)
        fn = graphnet.compile(step) if run == "static" else step
        for _ in range(2):
            fn(lib.ones(3, 2, requires_grad=True))
        results.append(([p.grad is None for p in params],
                         [p.detach().numpy().copy() for p in params]))
    (want_none, want), (got_none, got) = results
    assert got_none == want_none == [False, False, False, True]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def cube_grads(lib, x):
    y = (x ** 3 * x.sin()).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x, create_graph=True)
    (ggg,) = lib.autograd.grad(gg.sum(), x)
    return g, gg, ggg


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_higher_order_grads_match_torch(mode):
    data = [0.5, -1.0, 2.0]
    want = cube_grads(torch, torch.tensor(data, requires_grad=True))
    fn = (lambda x: cube_grads(graphnet, x))
    fn = graphnet.compile(fn) if mode == "static" else fn
    got = fn(graphnet.tensor(data, requires_grad=True))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5)
    assert got[0].requires_grad and not got[2].requires_grad


def double_backward(x, w):
    (x * x * w).sum().backward(create_graph=True)
    gx = x.grad * 1
    x.grad.sum().backward(inputs=[w])     # d/dw sum(2 x w) = 2 x, added to w.grad
    return gx


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_backward_create_graph_then_backward_of_grad(mode):
    def run(lib, fn):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        return fn(x, w), x.grad, w.grad

    fn = graphnet.compile(double_backward) if mode == "static" else double_backward
    for a, b in zip(run(graphnet, fn), run(torch, double_backward)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


def grad_variants(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    unused = lib.tensor([4.0, 5.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    out = {}
    out["grad_outputs"] = lib.autograd.grad(h, x, grad_outputs=lib.tensor([1.0, 0.5, 0.0]),
                                            retain_graph=True)[0]
    out["wrt_nonleaf"] = lib.autograd.grad(y, h, retain_graph=True)[0]
    out["two_inputs"] = lib.autograd.grad(y, [x, h], retain_graph=True)
    out["allow_unused"] = lib.autograd.grad(y, [x, unused], retain_graph=True,
                                            allow_unused=True)
    out["materialize"] = lib.autograd.grad(y, [x, unused], retain_graph=True,
                                           materialize_grads=True)
    out["batched"] = lib.autograd.grad(h, x, lib.eye(3), retain_graph=True,
                                       is_grads_batched=True)
    out["two_outputs"] = lib.autograd.grad([y, h.sum()], x)
    return out, x.grad


def flat(value):
    if value is None:
        return [None]
    if isinstance(value, (tuple, list)):
        return [v for item in value for v in flat(item)]
    return [value.detach().numpy()]


def test_grad_variants_match_torch_and_leave_grad_alone():
    got, got_grad = grad_variants(graphnet)
    want, want_grad = grad_variants(torch)
    assert got_grad is None and want_grad is None
    for key in want:
        for a, b in zip(flat(got[key]), flat(want[key]), strict=True):
            assert (a is None) == (b is None), key
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, x: m.autograd.grad((x * 2).sum(), []), RuntimeError, "cannot be empty"),
    (lambda m, x: m.autograd.grad(x * 2, x), RuntimeError, "only for scalar outputs"),
    (lambda m, x: m.autograd.grad((x * 2).sum(), m.ones(2)), RuntimeError,
     "does not require grad"),
    (lambda m, x: m.autograd.grad((x * 2).sum(), m.ones(2, requires_grad=True)), RuntimeError,
     "appears to not have been used in the graph"),
    (lambda m, x: m.autograd.grad(m.ones(2).sum(), x), RuntimeError,
     "element 0 of tensors does not require grad"),
    (lambda m, x: m.autograd.grad(x * 2, x, m.ones(2)), RuntimeError, "Mismatch in shape"),
    (lambda m, x: m.autograd.grad((x * 2).sum(), x, allow_unused=False,
                                  materialize_grads=True), ValueError, "allow_unused"),
    (lambda m, x: m.autograd.backward((x * 2).sum(), inputs=[]), RuntimeError,
     "cannot be empty"),
])
def test_grad_errors_match_torch(call, error, match):
    for lib in (torch, graphnet):
        with pytest.raises(error, match=match):
            call(lib, lib.ones(3, requires_grad=True))


def test_second_backward_through_freed_graph_raises_unless_retained():
    for lib in (torch, graphnet):
        x = lib.ones(3, requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        assert x.grad.tolist() == [4.0, 4.0, 4.0]
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()
        z = (x.exp()).sum()
        lib.autograd.grad(z, x)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            lib.autograd.grad(z, x)


def backward_forms(lib):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = lib.tensor([2.0, 0.5, 1.0], requires_grad=True)
    a, b = (x * w).sum(), (x * x).sum()
    lib.autograd.backward([a, b], retain_graph=True)
    first = (x.grad.clone(), w.grad.clone())
    lib.autograd.backward(x * w, grad_tensors=lib.tensor([1.0, 0.0, 2.0]), inputs=[w])
    h = x * 3
    (h * h).sum().backward(inputs=[h, x])
    return first + (x.grad, w.grad, h.grad)


def test_autograd_backward_forms_match_torch():
    for a, b in zip(backward_forms(graphnet), backward_forms(torch)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


def hooks(lib):
    log = []
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.register_hook(lambda g: log.append(("x", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post", t.grad.tolist())))
    h = x * 2
    handle = h.register_hook(lambda g: g * 10)
    h.retain_grad()
    h.register_hook(lambda g: log.append(("h", g.tolist())))
    y = (h * h).sum()
    y.backward(retain_graph=True)
    handle.remove()
    y.backward()
    return log, x.grad.tolist(), h.grad.tolist(), h.retains_grad, x.retains_grad, h.is_leaf


def test_hooks_and_retain_grad_match_torch():
    assert hooks(graphnet) == hooks(torch)


@pytest.mark.parametrize("call, match", [
    (lambda m: m.ones(2).register_hook(lambda g: g), "doesn't require gradient"),
    (lambda m: (m.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print),
     "non-leaf"),
    (lambda m: m.ones(2).retain_grad(), "requires_grad=False"),
])
def test_hook_errors_match_torch(call, match):
    for lib in (torch, graphnet):
        with pytest.raises(RuntimeError, match=match):
            call(lib)


def hooked_leaf(lib):
    w = lib.ones(3, requires_grad=True)
    w.register_hook(lambda g: g * 2)

    def sgd_in_backward(p):
        with lib.no_grad():
            p.sub_(0.1 * p.grad)
        p.grad = None

    w.register_post_accumulate_grad_hook(sgd_in_backward)
    return w


def test_leaf_hooks_run_in_compiled_backward_and_recompile_when_changed():
    x = [1.0, 2.0, 3.0]
    wt, w = hooked_leaf(torch), hooked_leaf(graphnet)
    step = graphnet.compile(lambda x: (x * x * w).sum().backward())
    for extra in (False, False, True):    # the third call: a new hook, so a new program
        if extra:
            wt.register_hook(lambda g: g + 1)
            w.register_hook(lambda g: g + 1)
        (torch.tensor(x) * torch.tensor(x) * wt).sum().backward()
        step(graphnet.tensor(x))
        np.testing.assert_allclose(w.detach().numpy(), wt.detach().numpy(), rtol=1e-6)
        assert w.grad is None and wt.grad is None
    reasons = step.explain()["recompile_reasons"]
    assert len(reasons) == 2 and "hooks of a leaf" in str(reasons[-1])


def test_non_leaf_hooks_and_retain_grad_inside_compile_are_refused():
    w = graphnet.ones(3, requires_grad=True)

    @graphnet.compile
    def step(x):
        y = x * w
        y.register_hook(lambda g: g * 2)
        return y.sum()

    with pytest.raises(TraceError, match="register_hook on a non-leaf tensor inside"):
        step(graphnet.ones(3))

    @graphnet.compile
    def retained(x):
        y = x * w
        y.retain_grad()
        return y.sum()

    with pytest.raises(TraceError, match="retain_grad inside graphnet.compile"):
        retained(graphnet.ones(3))


def test_grad_fn_next_functions_and_names():
    x = graphnet.ones(2, requires_grad=True)
    y = (x * 2).sum()
    (node, index), = y.grad_fn.next_functions
    assert y.grad_fn.name() == "SumBackward0" and node.name() == "MulBackward0" and index == 0
    (leaf, _), = node.next_functions
    assert leaf.name() == "torch::autograd::AccumulateGrad" and leaf.variable is x


def test_anomaly_mode_names_the_backward_node_like_torch():
    for lib in (torch, graphnet):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
            with lib.autograd.detect_anomaly():
                assert lib.is_anomaly_enabled()
                y = (x.sqrt() * 0).sum()
                with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
                    y.backward()
        assert not lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(True)
        assert lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)


def freed(lib, retain: bool):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0], requires_grad=True)
    linear = (x + w).sum()            # saves nothing: a second backward works
    linear.backward()
    linear.backward()
    y = (x * w).sum()
    y.backward(retain_graph=retain)
    y.backward()
    return x.grad, w.grad


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_second_backward_needs_retain_graph_in_both_modes(mode):
    want = freed(torch, True)
    fn = graphnet.compile(freed, ) if mode == "static" else freed
    got = fn(graphnet, True)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        freed(torch, False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        fn(graphnet, False)
