"""A program compiled outside `parametrize.cached()` and called inside such a block: eagerly
the block computes the parametrized weight once and reuses it, which a compiled call cannot
do; the program ran as it was and used fresh weights, silently. It now traces again, which
refuses the outer block; a block entered inside the compiled function still works."""
import pytest

import graphnet as G

P = G.nn.utils.parametrize


class Double(G.nn.Module):
    def forward(self, w):
        return w * 2


def _linear():
    lin = G.nn.Linear(2, 1, bias=False)
    with G.no_grad():
        lin.weight.copy_(G.tensor([[1.0, 2.0]]))
    P.register_parametrization(lin, "weight", Double())
    return lin


def test_call_inside_an_outer_cached_block_is_refused_not_stale():
    lin = _linear()
    fn = G.compile(lambda x: lin(x))
    x = G.tensor([[1.0, 1.0]])
    assert fn(x).tolist() == [[6.0]]
    with P.cached():
        with pytest.raises(G.TraceError, match="cached\\(\\) entered outside"):
            fn(x)
    assert fn(x).tolist() == [[6.0]]        # outside the block again: the program applies
    assert len(fn.compiled.artifacts) == 1


def test_cached_block_inside_the_compiled_function_compiles_once():
    lin = _linear()

    def f(x):
        with P.cached():
            return lin(x) + lin(x)

    fn = G.compile(f)
    x = G.tensor([[1.0, 1.0]])
    for _ in range(3):
        assert fn(x).tolist() == [[12.0]]
    assert len(fn.compiled.artifacts) == 1
