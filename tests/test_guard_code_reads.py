"""A compiled call after the user changed Python state the traced code read, through code the
guards used to miss, against torch eager on every call (compiler/code_reads.py). Each of
these gave the traced value again, without an error, before."""

import collections
import functools
import types

import numpy as np
import pytest
import torch

import graphnet as G

_W = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)


def _lin(lib):
    m = lib.nn.Linear(4, 3)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(_W))
        m.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
    return m


def _x(lib):
    return lib.tensor(np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4))


SCALE = 2.0
TABLE = ({"s": 2.0},)
QUEUE = collections.deque([2.0])
ACTS = {}
HOLDER = None


def _helper_leaf(x):
    return x * SCALE


def _helper_mid(x):
    return _helper_leaf(x) + 1


def _helper_top(x):
    return _helper_mid(x) * 1


class _Scaler:
    @staticmethod
    def apply(x):
        return x * SCALE

    def method(self, x):
        return x * SCALE


def _case_global_in_helper_method(lib, C):
    class M(lib.nn.Module):
        def act(self, h):
            return h * SCALE

        def forward(self, x):
            return self.act(x)
    m = M()
    return C(lambda x: m(x)), "SCALE"


def _case_global_in_parent_forward(lib, C):
    class Base(lib.nn.Module):
        def forward(self, x):
            return x * SCALE

    class Child(Base):
        def forward(self, x):
            return super().forward(x) + 1
    m = Child()
    return C(lambda x: m(x)), "SCALE"


def _case_global_in_property(lib, C):
    class M(lib.nn.Module):
        @property
        def k(self):
            return SCALE

        def forward(self, x):
            return x * self.k
    m = M()
    return C(lambda x: m(x)), "SCALE"


def _case_staticmethod(lib, C):
    return C(lambda x: _Scaler.apply(x)), "SCALE"


def _case_object_method(lib, C):
    obj = _Scaler()
    return C(lambda x: obj.method(x)), "SCALE"


def _case_helper_three_deep(lib, C):
    return C(_helper_top), "SCALE"


def _case_partial(lib, C):
    def step(x, k):
        return x * k * SCALE
    return C(functools.partial(step, k=1.5)), "SCALE"


def _case_callable_object(lib, C):
    class Step:
        def __call__(self, x):
            return x * SCALE
    return C(Step()), "SCALE"


def _case_lambda_in_global_dict(lib, C):
    ACTS["a"] = lambda t: t * SCALE
    return C(lambda x: ACTS["a"](x)), "SCALE"


def _case_dict_inside_global_tuple(lib, C):
    return C(lambda x: x * TABLE[0]["s"]), "TABLE"


def _case_global_deque(lib, C):
    return C(lambda x: x * QUEUE[0]), "QUEUE"


def _case_uncalled_module_weight(lib, C):
    global HOLDER
    HOLDER = _lin(lib)
    return C(lambda x: x @ HOLDER.weight.t()), "HOLDER.weight"


CASES = {name[len("_case_"):]: fn for name, fn in globals().items()
         if name.startswith("_case_")}


def _change(what: str, lib) -> None:
    global SCALE
    if what == "SCALE":
        SCALE = 3.0
    elif what == "TABLE":
        TABLE[0]["s"] = 3.0
    elif what == "QUEUE":
        QUEUE[0] = 3.0
    elif what == "HOLDER.weight":
        HOLDER.weight = lib.nn.Parameter(lib.full((3, 4), 0.5))


def _reset():
    global SCALE
    SCALE = 2.0
    TABLE[0]["s"] = 2.0
    QUEUE[0] = 2.0


def _run(lib, compiled: bool, name: str):
    _reset()
    try:
        fn, what = CASES[name](lib, G.compile if compiled else (lambda f: f))
        first = fn(_x(lib))
        _change(what, lib)
        second = fn(_x(lib))
        return [np.asarray(t.detach().numpy()) for t in (first, second)]
    finally:
        _reset()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_change_after_compiling_is_seen_like_torch(name):
    want = _run(torch, False, name)
    assert not np.allclose(want[0], want[1])        # the change matters
    for got, ref in zip(_run(G, True, name), want):
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


# ---- closures, defaults, classes, module attributes: changed in the test's own scope ----------
def _twice(lib, build, change):
    fn = build(lib)
    out = [fn(_x(lib))]
    change(lib)
    out.append(fn(_x(lib)))
    return [np.asarray(t.detach().numpy()) for t in out]


def _closure_in_module_attribute():
    state = {"alpha": 2.0}

    def build(lib):
        alpha = state["alpha"]
        m = _lin(lib)
        m.act = lambda t: t * alpha

        def change(lib):
            nonlocal alpha
            alpha = 3.0
        build.change = change
        return _compile(lib, lambda x: m.act(m(x)))
    return build, lambda lib: build.change(lib)


def _compile(lib, fn):
    return G.compile(fn) if lib is G else fn


def _defaults_rebound():
    holder = {}

    def build(lib):
        def f(x, s=2.0):
            return x * s
        holder["f"] = f
        return _compile(lib, f)

    def change(lib):
        holder["f"].__defaults__ = (3.0,)
    return build, change


def _kwdefaults_rebound():
    holder = {}

    def build(lib):
        def f(x, *, s=2.0):
            return x * s
        holder["f"] = f
        return _compile(lib, f)

    def change(lib):
        holder["f"].__kwdefaults__ = {"s": 3.0}
    return build, change


def _mutable_default():
    holder = {}

    def build(lib):
        def f(x, s=[2.0]):      # noqa: B006 (the point of the case)
            return x * s[0]
        holder["f"] = f
        return _compile(lib, f)

    def change(lib):
        holder["f"].__defaults__[0][0] = 3.0
    return build, change


def _forward_monkeypatched():
    holder = {}

    def build(lib):
        class M(lib.nn.Module):
            def forward(self, x):
                return x * 2
        holder["M"] = M
        m = M()
        return _compile(lib, lambda x: m(x))

    def change(lib):
        holder["M"].forward = lambda self, x: x * 3
    return build, change


def _module_numpy_attribute():
    holder = {}

    def build(lib):
        m = _lin(lib)
        m.scale = np.array([1.0, 2.0, 3.0], np.float32)
        holder["m"] = m
        return _compile(lib, lambda x: m(x) * lib.tensor(m.scale))

    def change(lib):
        holder["m"].scale[0] = 5.0
    return build, change


def _module_tuple_of_list():
    holder = {}

    def build(lib):
        m = _lin(lib)
        m.cfg = ([2.0],)

        class W(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.m = m

            def forward(self, x):
                return self.m(x) * self.m.cfg[0][0]
        w = W()
        holder["m"] = m
        return _compile(lib, lambda x: w(x))

    def change(lib):
        holder["m"].cfg[0][0] = 3.0
    return build, change


def _types_module_global():
    holder = {}

    def build(lib):
        cfg = types.ModuleType("graphnet_test_cfg")
        cfg.scale = 2.0
        holder["cfg"] = cfg
        return _compile(lib, lambda x: x * cfg.scale)

    def change(lib):
        holder["cfg"].scale = 3.0
    return build, change


def _object_five_deep():
    holder = {}

    def build(lib):
        ns = types.SimpleNamespace
        root = ns(a=ns(b=ns(c=ns(d=ns(e=2.0)))))
        holder["root"] = root
        return _compile(lib, lambda x: x * root.a.b.c.d.e)

    def change(lib):
        holder["root"].a.b.c.d.e = 3.0
    return build, change


def _list_of_many_objects():
    holder = {}

    def build(lib):
        objs = [types.SimpleNamespace(s=1.0) for _ in range(100)]
        holder["objs"] = objs
        return _compile(lib, lambda x: x * objs[70].s)

    def change(lib):
        holder["objs"][70].s = 3.0
    return build, change


def _uncalled_softmax_dim():
    holder = {}

    def build(lib):
        sm = lib.nn.Softmax(dim=0)
        holder["sm"] = sm
        return _compile(lib, lambda x: lib.softmax(x, dim=sm.dim))

    def change(lib):
        holder["sm"].dim = 1
    return build, change


def _parameters_after_append():
    holder = {}

    def build(lib):
        seq = lib.nn.Sequential(_lin(lib))
        holder["seq"] = seq
        return _compile(lib, lambda x: x.sum() + sum((p * p).sum() for p in seq.parameters()))

    def change(lib):
        holder["seq"].append(_lin(lib))
    return build, change


SCOPED = {f.__name__.strip("_"): f for f in (
    _closure_in_module_attribute, _defaults_rebound, _kwdefaults_rebound, _mutable_default,
    _forward_monkeypatched, _module_numpy_attribute, _module_tuple_of_list,
    _types_module_global, _object_five_deep, _list_of_many_objects, _uncalled_softmax_dim,
    _parameters_after_append)}


@pytest.mark.parametrize("name", sorted(SCOPED))
def test_a_change_in_scope_is_seen_like_torch(name):
    want = _twice(torch, *SCOPED[name]())
    assert not np.allclose(want[0], want[1])
    for got, ref in zip(_twice(G, *SCOPED[name]()), want):
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


def test_a_debuggers_trace_function_keeps_seeing_calls_while_tracing():
    import sys

    seen = []

    def tracer(frame, event, arg):
        seen.append(frame.f_code.co_name)

    def user_step(x):
        return x * 2

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        G.compile(user_step)(G.ones(2))
    finally:
        sys.settrace(previous)
    assert "user_step" in seen


_EVENTS = [0]


def _on_jax_event(event, duration, **_):     # a JAX monitoring listener of the user's
    _EVENTS[0] += 1


def test_a_callback_a_library_makes_while_tracing_is_not_guarded():
    """A listener JAX calls on every compile counts into a global list; it is no part of the
    traced code, so the program is reused (guarding it retraced on every call)."""
    from jax import monitoring

    monitoring.register_event_duration_secs_listener(_on_jax_event)
    try:
        run = G.compile(lambda x: (x * 2).sin())
        for _ in range(3):
            run(G.ones(3))
        assert run.explain()["graphs"] == 1
    finally:
        monitoring.unregister_event_duration_listener(_on_jax_event)
