"""What static mode reads through a class or module used as a namespace, through a name
given as a string, through a partial, and through a class attribute while other modules
change is guarded: each change below ran the old program silently before. An argparse or
SimpleNamespace argument is accepted (keyed by identity, its reads guarded)."""

import argparse
import functools
import operator
import types
import warnings

import pytest

import graphnet
from graphnet import nn

X = graphnet.ones(3)


def _values(t):
    return t.detach().tolist()


class Scaled(nn.Module):
    scale = 2.0

    def forward(self, x):
        return x * self.scale


def test_class_attribute_change_is_seen_while_other_modules_change():
    m = Scaled()
    f = graphnet.compile(m)
    assert _values(f(X)) == [2.0] * 3
    Scaled.scale = 4.0
    try:
        nn.Linear(2, 2)   # any module built moves the modules' change count
        assert _values(f(X)) == [4.0] * 3
        m.note = "a"
        Scaled.scale = 5.0
        assert _values(f(X)) == [5.0] * 3
    finally:
        Scaled.scale = 2.0


class Cfg:
    pass


@pytest.mark.parametrize("read", [
    lambda c: getattr(c, "scale"),  # noqa: B009  (the string form is what is tested)
    lambda c: vars(c)["scale"],
    lambda c: c.__dict__["scale"],
    lambda c: operator.attrgetter("scale")(c),
    lambda c: getattr(c, "scale", 1.0),
], ids=["getattr", "vars", "dict", "attrgetter", "getattr-default"])
def test_attributes_read_by_name_string_are_guarded(read):
    cfg = Cfg()
    cfg.scale = 2.0
    f = graphnet.compile(lambda x: x * read(cfg))
    assert _values(f(X)) == [2.0] * 3
    cfg.scale = 5.0
    assert _values(f(X)) == [5.0] * 3


class Namespace:
    @staticmethod
    def act(x):
        return x * 2

    @classmethod
    def shift(cls, x):
        return x + cls.Inner.k

    class Inner:
        k = 3.0


def test_functions_and_nested_classes_of_a_namespace_class_are_guarded():
    g = graphnet.compile(lambda x: Namespace.shift(Namespace.act(x)))
    assert _values(g(X)) == [5.0] * 3
    assert _values(g(X)) == [5.0] * 3   # a classmethod read does not recompile each call
    assert len(g.explain()["recompile_reasons"]) == 1
    old_act = Namespace.__dict__["act"]
    Namespace.act = staticmethod(lambda x: x * 10)
    try:
        assert _values(g(X)) == [13.0] * 3
        Namespace.Inner.k = 0.0
        assert _values(g(X)) == [10.0] * 3
    finally:
        Namespace.act, Namespace.Inner.k = old_act, 3.0


def test_a_user_module_function_replaced_is_seen():
    conf = types.ModuleType("user_conf")
    conf.act = lambda x: x * 2
    f = graphnet.compile(lambda x: conf.act(x))
    assert _values(f(X)) == [2.0] * 3
    conf.act = lambda x: x * 7
    assert _values(f(X)) == [7.0] * 3


def test_a_global_partial_is_compared_by_its_binding():
    held = [2.0]
    sc = functools.partial(lambda x, l, s=1.0: x * l[0] * s, l=held)
    f = graphnet.compile(lambda x: sc(x))
    assert _values(f(X)) == [2.0] * 3
    held[0] = 9.0
    assert _values(f(X)) == [9.0] * 3
    sc.keywords["s"] = 2.0
    assert _values(f(X)) == [18.0] * 3


def test_a_partial_held_by_a_module_changed_in_place():
    class Act(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = functools.partial(nn.functional.leaky_relu, negative_slope=0.1)

        def forward(self, x):
            return self.act(x)

    m = Act()
    f = graphnet.compile(m)
    x = -graphnet.ones(2)
    assert _values(f(x)) == pytest.approx([-0.1, -0.1])
    m.act.keywords["negative_slope"] = 0.3
    assert _values(f(x)) == pytest.approx([-0.3, -0.3])


@pytest.mark.parametrize("make", [argparse.Namespace, types.SimpleNamespace])
def test_namespace_arguments_are_accepted_and_guarded(make):
    f = graphnet.compile(lambda x, a: x * a.alpha)
    args = make(alpha=2.0)
    assert _values(f(X, args)) == [2.0] * 3
    args.alpha = 3.0
    assert _values(f(X, args)) == [3.0] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _values(f(X, make(alpha=5.0))) == [5.0] * 3


def test_a_global_made_later_that_shadows_a_builtin_is_seen():
    space = {}
    exec("def f(x):\n    return x + abs(-3)\n", space)
    g = graphnet.compile(space["f"])
    x = graphnet.tensor([-1.0, 2.0])
    assert _values(g(x)) == [2.0, 5.0]
    space["abs"] = lambda v: 20
    assert _values(g(x)) == [19.0, 22.0]
    del space["abs"]
    assert _values(g(x)) == [2.0, 5.0]
