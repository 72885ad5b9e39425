"""set_default_dtype and compiled code: a default set outside a compiled function is the
call's (part of the cache key), factories inside follow a default the code changes, and an op
whose result dtype is the default (`sqrt` of an int tensor) under a default the code changed
is refused, never run with another dtype (compiler/shapes.py `refuse_default_change`)."""

import pytest

import graphnet as gn
from graphnet._errors import TraceError


@pytest.fixture(autouse=True)
def _restore_default():
    yield
    gn.set_default_dtype(gn.float32)


def test_int_to_float_ops_follow_the_calls_default():
    fast = gn.compile(lambda x: (x.sqrt(), x.sigmoid(), gn.atan2(x, x + 1)))
    x = gn.tensor([2, 3])
    for default in (gn.float64, gn.float32, gn.float64):
        gn.set_default_dtype(default)
        eager = (x.sqrt(), x.sigmoid(), gn.atan2(x, x + 1))
        for got, want in zip(fast(x), eager):
            assert got.dtype == want.dtype == default
            assert got.tolist() == pytest.approx(want.tolist(), rel=1e-12)


def test_factories_follow_a_default_changed_inside():
    def make(x):
        gn.set_default_dtype(gn.float64)
        made = gn.ones(2) * 2 + gn.tensor([0.1, 0.2])
        halves = x / 2          # the division's dtype is chosen when it is traced
        gn.set_default_dtype(gn.float32)
        return made, halves, x.float().sqrt(), gn.zeros(1)

    eager = make(gn.tensor([4, 9]))
    compiled = gn.compile(make)(gn.tensor([4, 9]))
    for got, want in zip(compiled, eager):
        assert got.dtype == want.dtype
        assert got.tolist() == want.tolist()
    assert [t.dtype for t in compiled] == [gn.float64, gn.float64, gn.float32, gn.float32]


@pytest.mark.parametrize("op", ["sqrt", "sigmoid", "atan2"])
def test_an_op_reading_a_default_changed_inside_is_refused(op):
    calls = {"sqrt": lambda x: x.sqrt(), "sigmoid": lambda x: x.sigmoid(),
             "atan2": lambda x: gn.atan2(x, x)}

    def step(x):
        gn.set_default_dtype(gn.float64)
        try:
            return calls[op](x)
        finally:
            gn.set_default_dtype(gn.float32)

    assert step(gn.tensor([2])).dtype == gn.float64       # eagerly: the changed default
    with pytest.raises(TraceError, match="set_default_dtype outside the compiled function"):
        gn.compile(step)(gn.tensor([2]))
    assert gn.get_default_dtype() == gn.float32


def test_lowering_refuses_a_kernel_whose_dtype_differs_from_the_trace():
    import numpy as np

    from graphnet._x64 import x64
    from graphnet.compiler import lower, trace_call

    graph = trace_call(lambda x: x.sqrt(), (gn.tensor([4]),)).graph
    node = next(n for n in graph.nodes if n.op == "sqrt")
    node.outputs[0].dtype = np.dtype("float64")    # a record the kernel will not give
    with x64(), pytest.raises(TraceError, match="gave float32 where the trace recorded float64"):
        lower(graph)(np.array([4], np.int64))
