"""Code of the user's that runs for a compiled function without being called by it (tensor
hooks, post-accumulate hooks, optimizer step hooks, a custom Function's backward) is guarded
as the function's own code is: a global or an attribute it reads that changes between calls
recompiles. Before, the program kept the value read while tracing (a hook's scale set to 0 to
freeze a layer kept updating it, compiled only)."""

from __future__ import annotations

import graphnet

SETTINGS = {"scale": 1.0, "extra": 0.0}


class Scale:
    def __init__(self):
        self.k = 1.0

    def __call__(self, grad):
        return grad * self.k


class Doubled(graphnet.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * SETTINGS["scale"]


def _programs():
    """(step, change(value)) pairs: each step returns the values a change shows in."""
    w = graphnet.ones(3, requires_grad=True)
    w.register_hook(lambda g: g * SETTINGS["scale"])

    def tensor_hook():
        w.grad = None
        (w * w).sum().backward()
        return w.grad

    obj, v = Scale(), graphnet.ones(2, requires_grad=True)
    v.register_hook(obj)

    def object_hook():
        v.grad = None
        (v * 3).sum().backward()
        return v.grad

    u = graphnet.ones(2, requires_grad=True)

    def function_backward():
        u.grad = None
        Doubled.apply(u).sum().backward()
        return u.grad

    p = graphnet.nn.Parameter(graphnet.ones(2))
    def add_extra(t):
        t.grad.add_(SETTINGS["extra"])

    p.register_post_accumulate_grad_hook(add_extra)
    opt = graphnet.optim.SGD([p], lr=0.5)
    opt.register_step_post_hook(lambda o, a, k: p.data.mul_(1 + SETTINGS["extra"]))

    def optimizer_hooks():
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        return p.detach() * 1

    def set_scale(value):
        SETTINGS["scale"] = value

    def set_extra(value):
        SETTINGS["extra"] = value

    return [(tensor_hook, set_scale), (object_hook, lambda k: setattr(obj, "k", k)),
            (function_backward, set_scale), (optimizer_hooks, set_extra)]


def _run(compiled: bool) -> list:
    out = []
    SETTINGS.update(scale=1.0, extra=0.0)
    for step, change in _programs():
        run = graphnet.compile(step) if compiled else step
        for value in (1.0, 0.0, 3.0):
            change(value)
            out.append(run().tolist())
    SETTINGS.update(scale=1.0, extra=0.0)
    return out


def test_what_hooks_and_custom_functions_read_recompiles_when_it_changes():
    eager, compiled = _run(False), _run(True)
    assert compiled == eager
    assert eager[:3] == [[2.0] * 3, [0.0] * 3, [6.0] * 3]   # the hook's scale took effect
