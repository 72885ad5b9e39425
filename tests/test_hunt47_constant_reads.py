"""Python reading a value the compiled code computed from constants only (a tensor made from
data, a buffer left as it was): known while tracing, so it is read as eagerly; a value that
depends on an argument is still refused."""

import numpy as np
import pytest

import graphnet as gn
from graphnet._errors import TraceError


def test_values_made_from_constants_are_read_while_tracing():
    def f(x):
        n = int(gn.tensor(x.shape).prod())
        k = gn.arange(4).sum().item()
        if gn.tensor(2.0) > 1:
            x = x * 2
        return x.reshape(n) * k

    fast = gn.compile(f)
    for shape in ((2, 3), (4,)):
        x = gn.ones(*shape)
        np.testing.assert_array_equal(fast(x).numpy(), f(x).numpy())
    assert fast(gn.ones(2, 3)).tolist() == [12.0] * 6


def test_a_buffer_read_through_ops_is_guarded():
    class Counter(gn.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("steps", gn.tensor(0))

        def forward(self, x):
            return x * 10 if int(self.steps + 1) > 2 else x

    m = Counter()
    fast = gn.compile(m)
    x = gn.ones(2)
    assert fast(x).tolist() == [1.0, 1.0]
    m.steps.fill_(5)
    assert fast(x).tolist() == [10.0, 10.0]       # the guard saw the new value


def test_a_value_that_depends_on_an_argument_is_still_refused():
    with pytest.raises(TraceError, match="needs the value of a traced tensor"):
        gn.compile(lambda x: x * int((x + gn.tensor(1.0)).sum()))(gn.ones(3))


def test_bad_index_among_constants_raises_as_eagerly():
    def f(x):
        return x * gn.tensor([1.0, 2.0]).gather(0, gn.tensor([5])).item()

    with pytest.raises(RuntimeError, match="out of bounds|out of range"):
        f(gn.ones(2))
    with pytest.raises(RuntimeError, match="out of bounds|out of range"):
        gn.compile(f)(gn.ones(2))
