"""graphnet.cond and while_loop compiled with the operands PyTorch's take: nested tuples and
dicts of tensors (and a number among them) reach the branches rebuilt; a number in a
while_loop's carry, and a random op inside a branch, are refused with what to do instead."""
import pytest

import graphnet as G
from graphnet._errors import TraceError


def _nested(x):
    return G.cond(x.sum() > 0, lambda p: p[0] * p[1], lambda p: p[0] - p[1], ((x, x + 1),))


def _dict(x):
    return G.cond(x.sum() > 0, lambda d, k: d["a"] * k, lambda d, k: d["a"] + k,
                  ({"a": x}, 3.0))


@pytest.mark.parametrize("fn", [_nested, _dict])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_nested_operands_compile_as_they_run(fn, sign):
    x = G.arange(4, dtype=G.float32) * sign
    assert fn(x).tolist() == G.compile(fn)(x).tolist()


def test_nested_operand_gradients_match_dynamic():
    w = G.tensor([1.0, -2.0, 0.5], requires_grad=True)

    def loss(x):
        return G.cond(x.sum() > 0, lambda p: (p[0] * p[1]).sum(), lambda p: p[1].sum(),
                      ((x, w),))

    x = G.tensor([1.0, 2.0, 3.0])
    loss(x).backward()
    want = w.grad.clone()
    w.grad = None
    G.compile(loss)(x).backward()
    assert w.grad.tolist() == want.tolist() == [1.0, 2.0, 3.0]


def test_while_loop_number_in_carry_is_refused_clearly():
    def count(x):
        return G.while_loop(lambda i, t: i < 3, lambda i, t: (i + 1, t + 1), (0, x))

    assert count(G.zeros(2))[0] == 3
    with pytest.raises(TraceError, match="carry item 0 is not a tensor .* graphnet.tensor"):
        G.compile(count)(G.zeros(2))


def test_random_op_in_branch_is_refused_clearly():
    drop = G.nn.Dropout(0.5)

    def f(x):
        return G.cond(x.sum() > 0, lambda t: drop(t), lambda t: t, (x,))

    with pytest.raises(TraceError, match="a random op .* inside a branch"):
        G.compile(f)(G.ones(4))
