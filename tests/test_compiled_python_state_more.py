"""Python state a compiled function reads or changes beyond its instances' attributes, over
several calls, compiled against eager graphnet and PyTorch:

- state held by a class (`C.n += 1`, `setattr(C, ...)`, `type(self).calls += 1`, a list or
  dict a class holds, a staticmethod's or classmethod's counter) and by a function object
  (`f.calls += 1`): a trace that changes it makes the next call run the Python again
  (compiler/python_state.py, compiler/namespace_state.py);
- a Python attribute of a tensor argument (`x.scale`), checked for the tensor each call
  passes, and of a captured tensor (compiler/tensor_attributes.py);
- an attribute of a function object (`f.scale`), guarded as globals are
  (compiler/object_reads.py).
Before, each of these kept the trace's value on every later call (1, 1, 1 for 1, 2, 3)."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest
import torch

import graphnet

CALLS = 4


def _results(make, T, compiled: bool, calls: int = CALLS):
    """The outputs of `calls` calls of the function `make(T)` builds, as NumPy arrays, and
    the compiled handle (None eagerly). `make(T)` returns (fn, args_of_call)."""
    fn, args_of = make(T)
    run = graphnet.compile(fn) if compiled else fn
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)    # "traced again on every call"
        for i in range(calls):
            args, kwargs = args_of(T, i)
            out.append(np.asarray(run(*args, **kwargs).tolist(), dtype=np.float64))
    return out, (run if compiled else None)


def _check(make, calls: int = CALLS):
    """Compiled == eager == PyTorch on every call; the compiled handle."""
    want, _ = _results(make, torch, False, calls)
    eager, _ = _results(make, graphnet, False, calls)
    got, run = _results(make, graphnet, True, calls)
    for i in range(calls):
        np.testing.assert_allclose(eager[i], want[i], err_msg=f"eager, call {i}")
        np.testing.assert_allclose(got[i], want[i], err_msg=f"compiled, call {i}")
    return run


def _ones(T, i):
    return (T.ones(2),), {}


# ---- A: state held by a class ------------------------------------------------------------------
def _class_counter(T):
    class C:
        n = 0

    def f(x):
        C.n += 1
        return x * C.n
    return f, _ones


def _setattr_class(T):
    class C:
        pass

    def f(x):
        setattr(C, "m", getattr(C, "m", 0) + 1)   # noqa: B010 (setattr is the case tested)
        return x * C.m
    return f, _ones


def _type_of_object(T):
    class S:
        pass
    s = S()

    def f(x):
        type(s).k = getattr(type(s), "k", 0) + 1
        return x * type(s).k
    return f, _ones


def _class_list(T):
    class C:
        hist = []

    def f(x):
        C.hist.append(1)
        return x * len(C.hist)
    return f, _ones


def _class_dict(T):
    class Reg:
        table = {}

    def f(x):
        Reg.table[len(Reg.table)] = 1
        return x * len(Reg.table)
    return f, _ones


def _staticmethod_counter(T):
    class Ctr:
        _n = [0]

        @staticmethod
        def tick():
            Ctr._n[0] += 1
            return Ctr._n[0]

    def f(x):
        return x * Ctr.tick()
    return f, _ones


def _classmethod_counter(T):
    class Ctr:
        n = 0

        @classmethod
        def tick(cls):
            cls.n += 1
            return cls.n

    def f(x):
        return x + Ctr.tick()
    return f, _ones


def _subclass_counter(T):
    class Base:
        n = 10

    class Sub(Base):
        pass

    def f(x):
        Sub.n += 1      # reads Base.n once, then Sub's own
        return x * Sub.n
    return f, _ones


def _class_held_object(T):
    class State:
        def __init__(self):
            self.n = 0

    class C:
        state = State()

    def f(x):
        C.state.n += 1
        return x - C.state.n
    return f, _ones


def _nested_class(T):
    class Outer:
        class Inner:
            n = 0

    def f(x):
        Outer.Inner.n += 2
        return x * Outer.Inner.n
    return f, _ones


def _class_argument(T):
    class Counter:
        n = 0

    def f(x, counter):
        counter.n += 1
        return x * counter.n
    return f, lambda T, i: ((T.ones(2), Counter), {})


def _module_class_counter(T):
    class M(T.nn.Module):
        calls = 0

        def forward(self, x):
            type(self).calls += 1
            return x * self.calls
    m = M()
    return m, _ones


def _function_counter(T):
    def f(x):
        f.calls = getattr(f, "calls", 0) + 1
        return x * f.calls
    return f, _ones


@pytest.mark.parametrize("make", [
    _class_counter, _setattr_class, _type_of_object, _class_list, _class_dict,
    _staticmethod_counter, _classmethod_counter, _subclass_counter, _class_held_object,
    _nested_class, _class_argument, _module_class_counter, _function_counter])
def test_class_and_function_state_changes_on_every_call(make):
    _check(make)


def test_class_change_is_the_recompile_reason():
    run = _check(_class_counter)
    reasons = run.explain()["recompile_reasons"]
    assert reasons[0] == "first call"
    assert reasons[1] == "the previous trace changed Python state (C.n: 0 -> 1)", reasons
    assert reasons[2] == "the previous trace changed Python state (C.n: 1 -> 2)", reasons


def test_class_state_read_only_compiles_once():
    """Reading a class's data, a class-held list, a function's attribute, calling a
    classmethod that changes nothing: one graph for every call."""
    def make(T):
        class Cfg:
            scale = 2.0
            table = [1.0, 3.0]

            @classmethod
            def factor(cls):
                return cls.scale * cls.table[1]

        def f(x):
            return x * Cfg.factor() + f.offset + len(Cfg.table)
        f.offset = 0.5
        return f, _ones
    run = _check(make)
    assert run.explain()["graphs"] == 1, run.explain()["recompile_reasons"]


# ---- B: a Python attribute of a tensor -------------------------------------------------------
def _arg_attribute(T):
    def f(x):
        return x * x.scale

    def args(T, i):
        t = T.ones(2)
        t.scale = (1.0, 2.0, 5.0, 5.0)[i]
        return (t,), {}
    return f, args


def _same_arg_new_attribute(T):
    t = T.tensor([1.0, 2.0])

    def f(x):
        return x + x.shift

    def args(T, i):
        t.shift = (0.5, 0.5, -3.0, 7.0)[i]
        return (t,), {}
    return f, args


def _arg_attribute_getattr_default(T):
    def f(x):
        return x * getattr(x, "scale", 1.0)

    def args(T, i):
        t = T.ones(2)
        if i % 2:
            t.scale = 3.0 * i
        return (t,), {}
    return f, args


def _nested_arg_attribute(T):
    def f(xs, *, w):
        return xs[0] * xs[1].scale + w * w.bias

    def args(T, i):
        a, b, w = T.ones(2), T.ones(2), T.ones(2)
        b.scale, w.bias = float(i + 1), float(i * i)
        return ([a, b],), {"w": w}
    return f, args


def _arg_attribute_object(T):
    meta = types.SimpleNamespace(k=1.0)

    def f(x):
        return x * x.meta.k

    def args(T, i):
        t = T.ones(2)
        t.meta = meta if i < 2 else types.SimpleNamespace(k=-4.0)   # another object
        meta.k = float(min(i, 1) + 1)   # changed in place once, then left alone
        return (t,), {}
    return f, args


def _captured_tensor_attribute(T):
    w = T.tensor([1.0, -1.0])
    w.scale = 1.0

    def f(x):
        return x * w.scale + w

    def args(T, i):
        w.scale = (1.0, 2.0, 2.0, -0.5)[i]
        return (T.ones(2),), {}
    return f, args


@pytest.mark.parametrize("make", [
    _arg_attribute, _same_arg_new_attribute, _arg_attribute_getattr_default,
    _nested_arg_attribute, _arg_attribute_object, _captured_tensor_attribute])
def test_tensor_attribute_read_for_each_call(make):
    _check(make)


def test_arg_attribute_guard_names_the_attribute():
    run = _check(_arg_attribute)
    reasons = run.explain()["recompile_reasons"]
    assert reasons[1] == "guard failed: x.scale (an attribute of the tensor argument) is the " \
                         "value traced", reasons
    assert run.explain()["graphs"] == 3     # 1, 2, 5, then 5 again: no new graph


def test_unread_tensor_attribute_compiles_once():
    """An attribute the code never names (a tag set per call) does not trace again."""
    def make(T):
        def f(x):
            return x * 2

        def args(T, i):
            t = T.ones(2)
            t.tag = f"batch {i}"
            return (t,), {}
        return f, args
    run = _check(make)
    assert run.explain()["graphs"] == 1


# ---- C: an attribute of a function object ------------------------------------------------------
def _global_scaled(x):
    return x * _global_scaled.scale


def _global_function_attribute(T):
    _global_scaled.scale = 1.0

    def args(T, i):
        _global_scaled.scale = (1.0, 2.0, 5.0, 5.0)[i]
        return (T.ones(2),), {}
    return _global_scaled, args


def _helper_function_attribute(T):
    def helper(x):
        return x + helper.bias
    helper.bias = 0.0

    def f(x):
        return helper(x) * 2

    def args(T, i):
        helper.bias = float(i) * 1.5
        return (T.ones(2),), {}
    return f, args


def _function_attribute_list(T):
    def f(x):
        return x * sum(f.weights)
    f.weights = [1.0]

    def args(T, i):
        f.weights.append(float(i))     # in place: compared by value
        return (T.ones(2),), {}
    return f, args


@pytest.mark.parametrize("make", [
    _global_function_attribute, _helper_function_attribute, _function_attribute_list])
def test_function_attribute_read_on_every_call(make):
    _check(make)
