"""A hook that is a callable object, a bound method or a functools.partial is guarded like
the compiled function itself: a change to its object's attributes or to the partial's bound
arguments (in place too) recompiles, instead of running the program traced with the old
values. Module forward hooks, tensor hooks and optimizer step hooks alike."""

import functools
import warnings

import numpy as np

import graphnet
from graphnet import nn


class Scale:
    def __init__(self, s):
        self.s = s

    def __call__(self, module, args, out):
        return out * self.s

    def method(self, module, args, out):
        return out * self.s


def _model():
    graphnet.manual_seed(0)
    return nn.Linear(2, 2)


def _ratio(f, m, x):
    return (f(x) / m(x)).detach().numpy()


def test_callable_object_forward_hook():
    m, x = _model(), graphnet.ones(1, 2)
    sc = Scale(2.0)
    m.register_forward_hook(sc)
    f = graphnet.compile(lambda a: m(a))
    np.testing.assert_allclose(f(x).detach().numpy(), m(x).detach().numpy())
    sc.s = 5.0
    np.testing.assert_allclose(_ratio(f, m, x), 1.0)


def test_bound_method_forward_hook():
    m, x = _model(), graphnet.ones(1, 2)
    sc = Scale(2.0)
    m.register_forward_hook(sc.method)
    f = graphnet.compile(lambda a: m(a))
    f(x)
    sc.s = 4.0
    np.testing.assert_allclose(_ratio(f, m, x), 1.0)


def test_partial_forward_hook_with_a_dict_changed_in_place():
    m, x = _model(), graphnet.ones(1, 2)
    cfg = {"s": 2.0}
    m.register_forward_hook(functools.partial(lambda c, mod, a, o: o * c["s"], cfg))
    f = graphnet.compile(lambda a: m(a))
    f(x)
    cfg["s"] = 5.0
    np.testing.assert_allclose(_ratio(f, m, x), 1.0)


def test_partial_tensor_hook_in_a_compiled_step():
    w = nn.Parameter(graphnet.tensor([1.0, 1.0]))
    opt = graphnet.optim.SGD([w], lr=1.0)
    factor = [1.0]
    w.register_hook(functools.partial(lambda f, g: g * f[0], factor))

    @graphnet.compile
    def step():
        opt.zero_grad()
        (w * 2).sum().backward()
        opt.step()

    step()
    np.testing.assert_allclose(w.detach().numpy(), [-1.0, -1.0])
    factor[0] = 3.0
    step()
    np.testing.assert_allclose(w.detach().numpy(), [-7.0, -7.0])


def test_callable_object_optimizer_pre_hook():
    w = nn.Parameter(graphnet.tensor([0.0]))
    opt = graphnet.optim.SGD([w], lr=1.0)

    class Boost:
        k = 1.0

        def __call__(self, optimizer, args, kwargs):
            w.grad.mul_(self.k)

    boost = Boost()
    opt.register_step_pre_hook(boost)

    @graphnet.compile
    def step():
        opt.zero_grad()
        w.sum().backward()
        opt.step()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step()
        assert w.item() == -1.0
        boost.k = 10.0
        step()
    assert w.item() == -11.0
