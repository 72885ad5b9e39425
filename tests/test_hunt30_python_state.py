"""Static mode against plain Python: attributes read by a name the code builds, Python
state changed deep inside objects or inside closures held anywhere, and `@graphnet.compile`
on a method. Each later call must see what plain Python would."""

import operator
import types

import pytest

import graphnet
from graphnet import nn


class _Cfg:
    pass


def test_getattr_with_a_built_name_is_guarded():
    cfg = _Cfg()
    cfg.w_a, cfg.w_b = 1.0, 2.0
    f = graphnet.compile(lambda x: sum(getattr(cfg, f"w_{k}") * x for k in "ab"))
    assert f(graphnet.ones(2)).tolist() == [3.0, 3.0]
    cfg.w_b = 5.0
    assert f(graphnet.ones(2)).tolist() == [6.0, 6.0]


def test_getattr_with_a_name_from_a_list_and_attrgetter_are_guarded():
    cfg = _Cfg()
    cfg.names, cfg.weights = ["a", "b"], _Cfg()
    cfg.weights.a, cfg.weights.b = 1.0, 2.0

    def f(x):
        return sum(getattr(cfg.weights, name) * x for name in cfg.names)

    def g(x, name):
        return operator.attrgetter(name)(cfg.weights) * x

    cf, cg = graphnet.compile(f), graphnet.compile(g)
    assert cf(graphnet.ones(1)).item() == 3.0 and cg(graphnet.ones(1), "b").item() == 2.0
    cfg.weights.b = 4.0
    assert cf(graphnet.ones(1)).item() == 5.0 and cg(graphnet.ones(1), "b").item() == 4.0


def test_state_changed_five_objects_down_is_seen():
    run = types.SimpleNamespace(train=types.SimpleNamespace(opt=types.SimpleNamespace(
        sched=types.SimpleNamespace(state=types.SimpleNamespace(step=0)))))

    def f(x):
        state = run.train.opt.sched.state
        state.step += 1
        return x * min(1.0, state.step / 4)

    c = graphnet.compile(f)
    with pytest.warns(UserWarning, match="changes Python state"):
        got = [c(graphnet.ones(1)).item() for _ in range(4)]
    assert got == [0.25, 0.5, 0.75, 1.0] and run.train.opt.sched.state.step == 4


def _warmup(steps):
    n = 0

    def factor():
        nonlocal n
        n += 1
        return min(1.0, n / steps)

    return factor


@pytest.mark.parametrize("holder", ["module attribute", "dict", "list", "object", "argument"])
def test_a_closure_with_nonlocal_state_held_anywhere_runs_every_call(holder):
    factor = _warmup(4)
    box = {"dict": {"f": factor}, "list": [factor], "object": _Cfg()}
    box["object"].f = factor

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.warmup = factor

        def forward(self, x, fn=None):
            if holder == "module attribute":
                return x * self.warmup()
            if holder == "argument":
                return x * fn()
            held = {"dict": lambda: box["dict"]["f"], "list": lambda: box["list"][0],
                    "object": lambda: box["object"].f}[holder]()
            return x * held()

    c = graphnet.compile(M())
    with pytest.warns(UserWarning, match="changes Python state"):
        got = [c(graphnet.ones(1), factor).item() if holder == "argument"
               else c(graphnet.ones(1)).item() for _ in range(4)]
    assert got == [0.25, 0.5, 0.75, 1.0]


def test_compile_as_a_method_decorator_binds_the_instance():
    class M(nn.Module):
        def __init__(self, w):
            super().__init__()
            self.k = 2.0
            self.lin = nn.Linear(2, 2)
            with graphnet.no_grad():
                self.lin.weight.fill_(w)
                self.lin.bias.fill_(0.1)

        @graphnet.compile
        def forward(self, x):
            return self.lin(x) * self.k

    a, b = M(0.5), M(1.0)
    assert a(graphnet.ones(2)).tolist() == pytest.approx([2.2, 2.2])
    assert b(graphnet.ones(2)).tolist() == pytest.approx([4.2, 4.2])
    a.k = 3.0
    assert a(graphnet.ones(2)).tolist() == pytest.approx([3.3, 3.3])
    a(graphnet.ones(2)).sum().backward()
    assert a.lin.weight.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
