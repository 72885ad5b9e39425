"""Compiled calls whose tensor arguments share storage (runtime/arg_storage.py): with each
other (`f(w[1], w[1])`, overlapping slices, a tensor and its view) or with state the program
holds (`f(p)` where `f` updates `p`). Eagerly a write through one is seen by the others.

Before, the cache key told arguments apart only by identity, so a program traced for two
separate tensors ran for two views of one storage and silently returned the values from
before the write (torch [2, 2, 2], graphnet [0, 0, 0]). Every call below runs in PyTorch,
in graphnet eagerly and compiled, with one compiled function per case, called first with
fresh tensors so that the aliased calls must not reuse that program."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet as G
from graphnet._errors import TraceError


def add_then_read(a, b):
    a.add_(1)
    return b * 2


def mul_then_sum(a, b):
    a.mul_(2)
    return a + b


def write_b_read_a(a, b):
    b.sub_(3)
    return a * 1


def both_write(a, b):
    a.add_(1)
    b.mul_(3)
    return a + 0, b + 0


def set_first(a, b):
    a[0] = 5.0
    return b * 1


def read_only(a, b):
    return a * 2 + b


FUNCTIONS = [add_then_read, mul_then_sum, write_b_read_a, both_write, set_first, read_only]


def _base(lib, shape):
    return lib.arange(float(np.prod(shape))).reshape(shape).clone()


def _pair(shape, take):
    """lib -> ((a, b), tensors compared after the call): `take(base)` is (a, b)."""
    def make(lib):
        base = _base(lib, shape)
        return take(base), (base,)
    return make


def _with_fresh(view_first):
    def make(lib):
        w, y = _base(lib, (2, 3)), _base(lib, (3,)) + 10
        return ((w[1], y) if view_first else (y, w[1])), (w, y)
    return make


CALLS = {
    "fresh": lambda lib: ((x := _base(lib, (3,)), y := _base(lib, (3,)) + 10), (x, y)),
    "same tensor twice": _pair((3,), lambda x: (x, x)),
    "same view twice": _pair((2, 3), lambda w: (w[1], w[1])),
    "rows": _pair((2, 3), lambda w: (w[0], w[1])),
    "rows reversed": _pair((2, 3), lambda w: (w[1], w[0])),
    "overlapping slices": _pair((6,), lambda w: (w[0:3], w[1:4])),
    "overlapping, other order": _pair((6,), lambda w: (w[2:5], w[1:4])),
    "column and row": _pair((3, 3), lambda w: (w[:, 0], w[0])),
    "view and fresh": _with_fresh(True),
    "fresh and view": _with_fresh(False),
    "detached alias": _pair((3,), lambda x: (x, x.detach())),
    "base and its view": _pair((3,), lambda w: (w, w[0:3])),
    "view and its base": _pair((3,), lambda w: (w[0:3], w)),
    "row and reshaped row": _pair((2, 3), lambda w: (w[1], w.view(6)[3:6])),
}


def _run(lib, fn, make):
    try:
        args, shown = make(lib)
        out = fn(*args)
    except RuntimeError as error:
        return type(error)
    out = out if isinstance(out, tuple) else (out,)
    return [np.asarray(t.tolist()) for t in (*out, *shown)]


def _assert_same(got, expected, what):
    if isinstance(expected, type):
        assert isinstance(got, type) and issubclass(got, expected), (what, got, expected)
        return
    assert not isinstance(got, type), (what, got)
    assert len(got) == len(expected), what
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=0, atol=0, err_msg=what)


# reached from the base only through a temporary view (`w.view(6)`), which the trace does
# not keep in step: refused with a TraceError when the function writes (see the last test)
THROUGH_A_TEMPORARY = {"row and reshaped row"}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_aliased_arguments_match_torch_after_a_fresh_call(fn):
    compiled = G.compile(fn, cache_size=64)
    for name in ["fresh", *CALLS, "fresh"]:
        expected = _run(torch, fn, CALLS[name])
        _assert_same(_run(G, fn, CALLS[name]), expected, f"eager {name}")
        if name in THROUGH_A_TEMPORARY and fn is not read_only:
            expected = TraceError
        _assert_same(_run(G, compiled, CALLS[name]), expected, f"compiled {name}")


def test_the_issue_repro():
    """`f(w[1], w[1])` after a call with two fresh tensors: torch's [2, 2, 2]."""
    f = G.compile(lambda a, b: (a.add_(1), b * 2)[1])
    f(G.zeros(3), G.zeros(3))
    w, tw = G.zeros(2, 3), torch.zeros(2, 3)
    got = f(w[1], w[1])
    expected = (tw[1].add_(1), tw[1] * 2)[1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    np.testing.assert_array_equal(w.numpy(), tw.numpy())
    assert "argument storage" in f.explain()["recompile_reasons"][-1]


def test_a_view_elsewhere_in_the_same_storage_traces_again():
    """`f(w[0], y)` then `f(w[1], y)`: the program writes `w` back at the row it was traced
    with; the second row must be written, not the first again."""
    def f(a, b):
        a.add_(1)
        return b * 2

    compiled = G.compile(f)
    w, tw, y = G.zeros(3, 3), torch.zeros(3, 3), G.zeros(3)
    for row in (0, 1, 2, 1):
        compiled(w[row], y)
        f(tw[row], torch.zeros(3))
        np.testing.assert_array_equal(w.numpy(), tw.numpy())


def test_an_argument_that_is_the_programs_state():
    """`f(p)` after `f(x)`, where `f` updates `p` itself: the argument is `p`, so it reads
    the updated values, as in torch (before, the program read its input from before)."""
    results = {}
    for lib, wrap in ((torch, lambda f: f), (G, lambda f: f), (G, G.compile)):
        p = lib.zeros(3)

        def f(a):
            p.add_(1)
            return a * 2

        f = wrap(f)
        x = lib.zeros(3)
        results.setdefault(lib.__name__, []).append(
            [f(x).tolist(), f(p).tolist(), f(p[1:]).tolist(), f(x).tolist(), p.tolist()])
    expected = results["torch"][0]
    assert results["graphnet"] == [expected, expected]


def test_fresh_batches_and_sliced_batches_compile_once_each():
    """The usual steps: fresh tensors, or slices of one data set; neither retraces per call."""
    f = G.compile(lambda a, b: (a * b).sum())
    data = G.arange(24.0).view(6, 4)
    for k in range(3):
        f(G.ones(2, 4) * k, G.ones(2, 4))
    for k in range(3):
        got = f(data[2 * k:2 * k + 2], data[k:k + 2])
        assert float(got) == float((data[2 * k:2 * k + 2] * data[k:k + 2]).sum())
    assert len(f.explain()["recompile_reasons"]) == 2


def test_a_view_of_a_temporary_view_is_refused():
    """`w.t()[0]` is reached from `w` only through the temporary `w.t()`, which the trace
    does not update, so its values would go stale after the write to `w[0]`: a TraceError
    naming the arguments instead of a wrong number."""
    compiled = G.compile(write_b_read_a)
    compiled(G.zeros(3), G.zeros(3))
    w = G.arange(9.0).view(3, 3).clone()
    with pytest.raises(TraceError, match=r"input 0 \(a\), input 1 \(b\) share one storage"):
        compiled(w.t()[0], w[0])
    np.testing.assert_array_equal(w.numpy(), np.arange(9.0).reshape(3, 3))   # nothing ran
    tw = torch.arange(9.0).view(3, 3).clone()
    np.testing.assert_array_equal(write_b_read_a(w.t()[0], w[0]).numpy(),
                                  write_b_read_a(tw.t()[0], tw[0]).numpy())   # eager: right


# ---- an argument the code also reaches as state -----------------------------------------------
def _arg_is_also_state(T, C, where):
    p = T.zeros(3)
    lin = T.nn.Linear(3, 3, bias=False)
    with T.no_grad():
        lin.weight.copy_(T.eye(3))
    held = [p]
    if where == "closure":
        g = C(lambda a: (p.add_(1), a * 2)[1])
        first = p
    elif where == "list":
        g = C(lambda a: (held[0].add_(1), a * 2)[1])
        first = p
    else:       # a module's parameter, passed in and used through the module
        g = C(lambda a: lin(T.ones(1, 3)).sum() + a.sum())
        first = lin.weight
    with T.no_grad():
        out = [g(first).tolist()]
        x = T.ones(3) if where != "module" else T.full((3, 3), 2.0)
        out += [g(x).tolist(), p.tolist(), x.tolist(), lin.weight.tolist()]
    return out


@pytest.mark.parametrize("where", ["closure", "list", "module"])
def test_an_argument_the_code_also_reads_as_state_is_that_tensor_only(where):
    """`g(p)` where `g` also reads `p` itself, then `g(x)`: the program traced for `p` read
    both as one input, and wrote `p`'s update into `x` (torch: `p` 2, `x` unchanged)."""
    want = _arg_is_also_state(torch, lambda f: f, where)
    assert _arg_is_also_state(G, G.compile, where) == want
