"""Tensor, node, module and global hooks against PyTorch: in-place hook writes, hooks that
change a gradient's size or dtype, module backward hooks that compile when no gradient can
flow, None in grad_output, global module hooks (also compiled), registration hooks,
grad_fn hooks and multi-grad hooks."""

import importlib
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import graphnet
from graphnet._errors import TraceError

LIBS = [torch, graphnet]


def _lists(grads):
    return [None if g is None else g.tolist() for g in grads]


# ---- 1. a hook that writes the gradient in place and returns None ------------------------------
def _inplace(lib, leaf: bool):
    x = lib.tensor([1.0, -3.0], requires_grad=True)
    y = x if leaf else x * 1
    y.register_hook(lambda g: (g.clamp_(-1, 1), None)[1])
    (y * lib.tensor([5.0, -5.0])).sum().backward()
    return x.grad.tolist()


@pytest.mark.parametrize("leaf", [True, False])
def test_inplace_hook_write_counts(leaf):
    assert _inplace(graphnet, leaf) == _inplace(torch, leaf) == [1.0, -1.0]


def test_inplace_hook_write_counts_compiled():
    def run(lib, compiled):
        w = lib.nn.Parameter(lib.tensor([1.0, -3.0]))
        w.register_hook(lambda g: (g.mul_(0.5), None)[1])

        def grad_of(x):
            (w * x).sum().backward()
            return w.grad.clone()
        grad_of = graphnet.compile(grad_of) if compiled else grad_of
        return grad_of(lib.tensor([4.0, -4.0])).tolist()
    assert run(graphnet, False) == run(graphnet, True) == run(torch, False) == [2.0, -2.0]


# ---- 2. a hook that changes the gradient's size or dtype ----------------------------------------
def _changed(lib, leaf: bool, hook):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x if leaf else x * 1
    y.register_hook(hook)
    with pytest.raises(RuntimeError) as info:
        (y * 2).sum().backward()
    return str(info.value)


def shrink(g):
    return g[:1]


@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("hook", [shrink, lambda g: g.sum(), lambda g: g.double(),
                                  lambda g: g.double()[:1]])
def test_hook_changing_size_or_type_raises(leaf, hook):
    message = _changed(graphnet, leaf, hook)
    assert message == _changed(torch, leaf, hook)
    assert message.startswith(f"hook '{hook.__name__}' has changed the")


def test_leaf_hook_changing_size_raises_compiled():
    w = graphnet.nn.Parameter(graphnet.tensor([1.0, 2.0]))
    w.register_hook(lambda g: g.sum())

    @graphnet.compile
    def step():
        (w * 2).sum().backward()
        return w.grad
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        step()


# ---- 3. a full backward hook under no_grad or with nothing requiring grad compiles ---------------
def test_backward_hook_module_compiles_without_grad():
    m = graphnet.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: None)
    f = graphnet.compile(lambda a: m(a))
    x = graphnet.ones(1, 2)
    with graphnet.no_grad():
        expected = m(x).tolist()
        assert f(x).tolist() == expected

    @graphnet.compile
    def inside(a):
        with graphnet.no_grad():
            return m(a)
    assert inside(x).tolist() == expected
    m.requires_grad_(False)
    assert f(x).tolist() == expected
    m.requires_grad_(True)
    with pytest.raises(TraceError, match="backward hooks of module"):
        f(x)


# ---- 4. grad_output holds None for an output the loss does not use -----------------------------
def _unused_output(lib):
    log = []

    class Two(lib.nn.Module):
        def forward(self, a, b):
            return a * 2, b * 3
    m = Two()
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _lists(go))))
    m.register_full_backward_hook(
        lambda mod, gi, go: log.append(("full", _lists(gi), _lists(go))))
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([1.0], requires_grad=True)
    y, _ = m(a, b)
    y.sum().backward()
    return log, a.grad.tolist(), b.grad.tolist()


def test_backward_hooks_see_none_for_unused_output():
    expected = _unused_output(torch)
    assert expected[0][0] == ("pre", [[1.0, 1.0], None])
    assert _unused_output(graphnet) == expected


# ---- 5. global module hooks, registration hooks, grad_fn hooks, multi-grad hooks --------------
def _global_hooks(lib):
    mm = importlib.import_module(lib.__name__ + ".nn.modules.module")
    log = []

    def name(mod):
        return type(mod).__name__
    m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
    with lib.no_grad():
        m[0].weight.fill_(0.5)
        m[0].bias.fill_(0.1)
    m[0].register_forward_hook(lambda mod, a, o: log.append(("own", name(mod))) or o * 2)
    m[0].register_forward_pre_hook(lambda mod, a: log.append(("own pre", name(mod))))
    m[0].register_full_backward_hook(lambda mod, gi, go: log.append(("own bw", name(mod))))
    handles = [
        mm.register_module_forward_hook(lambda mod, a, o: log.append(("g", name(mod))) or o + 1),
        mm.register_module_forward_pre_hook(lambda mod, a: log.append(("g pre", name(mod)))),
        mm.register_module_full_backward_hook(
            lambda mod, gi, go: log.append(("g bw", name(mod), _lists(go)))),
        mm.register_module_full_backward_pre_hook(lambda mod, go: log.append(("g bwpre", name(mod)))),
    ]
    x = lib.tensor([[1.0, -2.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = m(x)
        y.sum().backward()
    log += [y.tolist(), x.grad.tolist()]
    for handle in handles:
        handle.remove()
    log.append(m(x).tolist())
    return log


def test_global_module_hooks_order_and_values():
    assert _global_hooks(graphnet) == _global_hooks(torch)


def _registration_hooks(lib):
    mm = importlib.import_module(lib.__name__ + ".nn.modules.module")
    log = []
    handles = [
        mm.register_module_buffer_registration_hook(
            lambda mod, n, b: log.append(("b", n)) or (None if b is None else b * 2)),
        mm.register_module_parameter_registration_hook(lambda mod, n, p: log.append(("p", n))),
        mm.register_module_module_registration_hook(lambda mod, n, s: log.append(("m", n))),
    ]
    lib.nn.BatchNorm1d(1)
    q = lib.nn.Module()
    q.register_buffer("z", lib.ones(1))
    q.sub = lib.nn.Linear(1, 1)
    q.add_module("other", None)
    q.sub = None
    q.w = lib.nn.Parameter(lib.ones(1))
    q.register_parameter("v", None)
    q.z = lib.ones(1)
    for handle in handles:
        handle.remove()
    q.register_buffer("after", lib.ones(1))
    log.append(q.z.tolist())
    return log


def test_registration_hooks():
    assert _registration_hooks(graphnet) == _registration_hooks(torch)


def test_global_forward_hook_compiled_recompiles():
    from graphnet.nn.modules.module import register_module_forward_hook

    m = graphnet.nn.Linear(2, 2)
    x = graphnet.ones(1, 2)
    f = graphnet.compile(lambda a: m(a))
    base = m(x).detach().numpy()
    np.testing.assert_allclose(f(x).detach().numpy(), base, rtol=1e-6)
    scale = {"s": 10.0}
    handle = register_module_forward_hook(lambda mod, a, o: o * scale["s"])
    np.testing.assert_allclose(f(x).detach().numpy(), base * 10, rtol=1e-6)
    scale["s"] = 3.0
    np.testing.assert_allclose(f(x).detach().numpy(), base * 3, rtol=1e-6)
    handle.remove()
    np.testing.assert_allclose(f(x).detach().numpy(), base, rtol=1e-6)


def _node_hooks(lib):
    log = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.grad_fn.register_prehook(lambda go: log.append(("pre", _lists(go))) or (go[0] * 2,))
    handle = y.grad_fn.register_hook(
        lambda gi, go: log.append(("post", _lists(gi)[:1], _lists(go))) or
        tuple(None if g is None else g + 1 for g in gi))
    y.sum().backward(retain_graph=True)
    log.append(x.grad.tolist())
    handle.remove()
    x.grad = None
    y.sum().backward()
    log.append(x.grad.tolist())
    return log


def test_grad_fn_hooks():
    assert _node_hooks(graphnet) == _node_hooks(torch)


def _multi_grad(lib):
    graph = importlib.import_module(lib.__name__ + ".autograd.graph")
    log = []
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0], requires_grad=True)
    c, d = a * b, a * b
    handle = graph.register_multi_grad_hook((a, b, c, d), lambda gs: log.append(_lists(gs)))
    c.sum().backward(retain_graph=True)
    c.sum().backward(inputs=(a,), retain_graph=True)
    handle.remove()
    c.sum().backward(retain_graph=True)
    graph.register_multi_grad_hook((a, b), lambda g: log.append(("any", g.tolist())), mode="any")
    (a.sum() + b.sum()).backward()
    (a.sum() * 2).backward()
    return log


def test_multi_grad_hook():
    assert _multi_grad(graphnet) == _multi_grad(torch)


def test_utils_hooks_removable_handle():
    for lib in LIBS:
        table = OrderedDict()
        handle = lib.utils.hooks.RemovableHandle(table)
        table[handle.id] = print
        handle.remove()
        assert not table
