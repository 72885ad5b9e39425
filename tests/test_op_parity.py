"""Every op against PyTorch, from the declarative table in op_parity_cases.py, and the walker
that makes sure no public op is left without a case."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from op_parity_cases import CASES, ELSEWHERE
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet
from graphnet._ops import OPS

ROOT = Path(__file__).resolve().parent.parent


def _public(op) -> bool:
    return bool(op.functions or op.methods or op.inplace)


def missing_cases(ops=OPS, cases=CASES, elsewhere=ELSEWHERE) -> list[str]:
    """Why each op without a usable case fails the walker: one line per op, naming it."""
    problems = []
    for name, op in ops.items():
        if name in cases:
            continue
        if name not in elsewhere:
            where = "a graphnet function or Tensor method" if _public(op) else "no public API"
            problems.append(f"op {name!r} ({where}) has no parity case: add one to CASES in "
                            f"tests/op_parity_cases.py")
        elif _public(op) and elsewhere[name][0] != "random":
            problems.append(f"op {name!r} is public: it needs a parity case in CASES, not an "
                            f"ELSEWHERE entry (only random ops may compare elsewhere)")
    problems += [f"op {n!r} has a case and an ELSEWHERE entry: drop the entry"
                 for n in cases if n in elsewhere]
    problems += [f"CASES names {n!r}, which is no op" for n in cases if n not in ops]
    problems += [f"ELSEWHERE names {n!r}, which is no op" for n in elsewhere if n not in ops]
    return problems


def test_every_op_has_a_parity_case_or_a_listed_test():
    assert missing_cases() == []


def test_the_walker_names_each_op_left_without_a_case():
    cases = {n: c for n, c in CASES.items() if n not in ("cumsum", "exp")}
    elsewhere = {n: e for n, e in ELSEWHERE.items() if n != "constant"}
    elsewhere["exp"] = ("nn.Module", "tests/test_tensor_ops.py", "test_factories_and_seeding")
    assert sorted(missing_cases(cases=cases, elsewhere=elsewhere)) == [
        "op 'constant' (no public API) has no parity case: add one to CASES in "
        "tests/op_parity_cases.py",
        "op 'cumsum' (a graphnet function or Tensor method) has no parity case: add one to "
        "CASES in tests/op_parity_cases.py",
        "op 'exp' is public: it needs a parity case in CASES, not an ELSEWHERE entry (only "
        "random ops may compare elsewhere)"]


@pytest.mark.parametrize("name", sorted(ELSEWHERE))
def test_listed_tests_exist(name):
    _, path, function = ELSEWHERE[name]
    source = (ROOT / path).read_text()
    assert re.search(rf"^def {function}\(", source, re.M), f"{path} has no {function}()"


def _flat(out) -> list:
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _inputs(name: str, case) -> list:
    rng = np.random.default_rng(sum(map(ord, name)))
    return [make(rng) for make in case.inputs]


def _needs_grad(name: str, case, i: int, array) -> bool:
    return OPS[name].differentiable and array.dtype.kind == "f" and i not in case.no_grad


def _run(T, name, case, arrays):
    make = to_torch if T is torch else to_gn
    inputs = [make(a, requires_grad=_needs_grad(name, case, i, a)) for i, a in enumerate(arrays)]
    call = case.torch_call if T is torch and case.torch_call is not None else case.call
    return inputs, _flat(call(T, *inputs))


def _compiled(case):
    """The case's graphnet call as one compiled function (static mode): traced, lowered and
    run by XLA; its outputs join the tape, so backward() runs the program's jax.vjp."""
    return dataclasses.replace(case, call=lambda T, *xs: graphnet.compile(
        lambda *ys: tuple(_flat(case.call(T, *ys))))(*xs))


# Cases that cannot compile, and why (each must say so with a TraceError, tested elsewhere).
EAGER_ONLY = {
    "cond": "its PyTorch reference is a Python if; compiled cond is tests/test_control_flow.py",
    "while_loop": "as cond: tests/test_control_flow.py compiles it",
}


def _assert_refused_when_compiled(name, case, arrays):
    """A value-dependent shape cannot compile: a TraceError that names the op, never a guess."""
    with pytest.raises(graphnet.TraceError, match=name.split("_")[0]):
        _run(graphnet, name, _compiled(case), arrays)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name, mode):
    case = CASES[name]
    arrays = _inputs(name, CASES[name])
    if mode == "compiled":
        if name in EAGER_ONLY or not case.inputs:
            pytest.skip(EAGER_ONLY.get(name, "a factory with no inputs compiles to a constant"))
        if not case.static:
            _assert_refused_when_compiled(name, case, arrays)
            return
        case = _compiled(case)
    t_in, t_out = _run(torch, name, case, arrays)
    g_in, g_out = _run(graphnet, name, case, arrays)
    assert len(g_out) == len(t_out), f"{name}: {len(g_out)} outputs, PyTorch {len(t_out)}"
    for k, (g, t) in enumerate(zip(g_out, t_out)):
        assert np_of(g).dtype == np_of(t).dtype, f"{name} output {k}: dtype"
        assert_close(g, t, case.atol, case.rtol, what=f"{name} output {k}")
    wanted = [i for i, a in enumerate(arrays) if _needs_grad(name, case, i, a)]
    if not wanted:
        return
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal(np_of(t).shape).astype(np.float32) for t in t_out]
    floats = [k for k, t in enumerate(t_out) if t.dtype.is_floating_point]
    sum(((t_out[k] * to_torch(weights[k])).sum() for k in floats)).backward()
    sum(((g_out[k] * to_gn(weights[k])).sum() for k in floats)).backward()
    for i in wanted:
        assert_close(g_in[i].grad, t_in[i].grad, case.atol, case.rtol, what=f"{name} grad {i}")


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.names))
def test_method_and_inplace_names_compute_the_same(name):
    """x.exp(), x.exp_() (and aliases: x.negative(), x.clip_()) from the table's names."""
    case, op = CASES[name], OPS[name]
    arrays = _inputs(name, case)
    expected = np_of(case.call(torch, *[to_torch(a) for a in arrays]))
    for method in op.methods:
        x, *rest = [to_gn(a) for a in arrays]
        assert_close(getattr(x, method)(*rest), expected, what=f"x.{method}()")
    for method in op.inplace:
        x, *rest = [to_gn(a) for a in arrays]
        result = getattr(x, method)(*rest)
        assert result is x
        assert_close(x, expected, what=f"x.{method}()")


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_reaches_its_op(name):
    """The case really runs the op it is filed under (traced, its graph has a node of it)."""
    case = CASES[name]
    inputs = [to_gn(a) for a in _inputs(name, case)]
    if not case.static:   # refused inside a trace (test_values_and_gradients_match_torch)
        with pytest.raises(graphnet.TraceError):
            graphnet.trace_graph(lambda *xs: case.call(graphnet, *xs), *inputs)
        return
    graph = graphnet.trace_graph(lambda *xs: case.call(graphnet, *xs), *inputs)
    assert name in {n.op for n in graph.nodes}, f"{name}: traced {[n.op for n in graph.nodes]}"


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_, np.float32])
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_cumsum_dtype_and_dims_match_torch(dtype, dim):
    """A scan keeps its axis; integer and bool input sums as int64, as PyTorch does."""
    a = np.array([[1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 1]]).astype(dtype)
    expected = torch.cumsum(to_torch(a), dim)
    for result in (graphnet.cumsum(to_gn(a), dim), to_gn(a).cumsum(dim)):
        assert np_of(result).dtype == np_of(expected).dtype
        np.testing.assert_array_equal(np_of(result), np_of(expected))
    assert OPS["cumsum"].kind == "opaque"   # a scan: fuse.py must not end a reduction on it
