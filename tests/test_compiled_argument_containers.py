"""What a compiled call does with the Python objects it is given or makes, as eager code
does: a list or dict argument the code appends to or sets a key of is the caller's (the
trace ran on rebuilt copies, so the caller never saw the change, not even on the first call);
a mutable default argument the code changes runs the Python on every call (it changed once,
while tracing); `np.float64(-0.0)` is not `np.float64(0.0)` (`x / s` reused the +inf
program); a Parameter or module made inside the traced code works (it raised a misleading
"tensor from another trace" error)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphnet
from graphnet import nn


def _both(fn, make_args, calls=3):
    """[(results, args after the calls)] eager then compiled, each on fresh arguments."""
    out = []
    for run in (fn, graphnet.compile(fn)):
        args = make_args()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # a Python side effect retraces, with a warning
            results = [run(*args) for _ in range(calls)]
        out.append((results, args))
    return out


def _plain(value):
    if isinstance(value, graphnet.Tensor):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _log_and_count(x, history, state):
    history.append(x * 2)
    state["calls"] = state.get("calls", 0) + 1
    state["last"] = x.sum() * state["calls"]
    return x * state["calls"]


def _replace_item(items):
    items[0] = items[0] + 1
    return items[0] * 2


def _nested(pair):
    x, seen = pair
    seen.append(x.sum())
    return x + len(seen)


@pytest.mark.parametrize("fn, make_args", [
    (_log_and_count, lambda: (graphnet.ones(2), [], {})),
    (_replace_item, lambda: ([graphnet.zeros(2)],)),
    (_nested, lambda: ((graphnet.ones(1), []),)),
], ids=["append_and_set_keys", "replace_an_item", "list_inside_a_tuple"])
def test_containers_passed_in_are_the_callers(fn, make_args):
    (eager, eager_args), (compiled, compiled_args) = _both(fn, make_args)
    assert _plain(compiled) == _plain(eager)
    assert _plain(compiled_args) == _plain(eager_args)


def _with_mutable_defaults(x, counter={"n": 0}, log=[]):   # noqa: B006  (the point)
    counter["n"] += 1
    log.append(counter["n"])
    return x * counter["n"]


def test_a_mutable_default_the_code_changes_runs_on_every_call():
    results = []
    for run in (_with_mutable_defaults, graphnet.compile(_with_mutable_defaults)):
        _with_mutable_defaults.__defaults__[0]["n"] = 0
        _with_mutable_defaults.__defaults__[1].clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(([run(graphnet.ones(1)).item() for _ in range(3)],
                            _plain(_with_mutable_defaults.__defaults__)))
    assert results[0] == results[1] == ([1.0, 2.0, 3.0], [{"n": 3}, [1, 2, 3]])


def test_numpy_float_zeros_of_either_sign_trace_their_own_programs():
    run = graphnet.compile(lambda x, s: x / s)
    for s in (np.float64(0.0), np.float64(-0.0), np.float32(-0.0)):
        assert run(graphnet.ones(2), s).tolist() == (graphnet.ones(2) / s).tolist()
    nan = graphnet.compile(lambda x, s: x + s)
    for _ in range(3):
        nan(graphnet.ones(1), np.float32("nan"))
    assert nan.explain()["graphs"] == 1      # a NaN is the same NaN, not a miss every call


def _parameter_inside(x):
    p = nn.Parameter(graphnet.ones(2, 2))
    (x * p).sum().backward()
    return p.grad * 1


def _module_inside(x):
    graphnet.manual_seed(0)
    return nn.Linear(2, 2)(x)


@pytest.mark.parametrize("fn", [_parameter_inside, _module_inside])
def test_parameters_and_modules_made_inside_traced_code(fn):
    x = graphnet.ones(2, 2) * 3
    (eager, _), (compiled, _) = _both(fn, lambda: (x,), calls=2)
    np.testing.assert_allclose(np.asarray(_plain(compiled)), np.asarray(_plain(eager)),
                               rtol=1e-6)


def test_a_frozen_dataclass_argument_holding_tensors_traces_again_for_another_instance():
    """Its generated `==` compares the tensors it holds: describing the cache miss raised
    "Boolean value of Tensor with 4 values is ambiguous" on the second call."""
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Batch:
        x: graphnet.Tensor

    run = graphnet.compile(lambda b: b.x * 2)
    assert run(Batch(graphnet.ones(2, 2))).tolist() == [[2.0, 2.0]] * 2
    assert run(Batch(graphnet.ones(2, 2) * 4)).tolist() == [[8.0, 8.0]] * 2


def _returns_a_closure(x):
    return lambda: x * 2


def _returns_a_generator(x):
    return (x * i for i in range(2))


@pytest.mark.parametrize("fn", [_returns_a_closure, _returns_a_generator])
def test_a_returned_closure_or_generator_is_made_again_on_every_call(fn):
    """The first trace's object came back on every call: the closure computed the first
    call's values and the used-up generator gave nothing."""
    run = graphnet.compile(fn)
    for scale in (1.0, 5.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = run(graphnet.ones(2) * scale)
        want = fn(graphnet.ones(2) * scale)
        got, want = (got(), want()) if callable(got) else (list(got), list(want))
        assert _plain(got) == _plain(want)
