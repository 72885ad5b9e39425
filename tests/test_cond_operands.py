"""graphnet.cond takes its operands as torch.cond does (one tuple or list, positionally or
as `operands=`), besides one by one. Before, a tuple was taken as a single operand: eagerly
`lambda a: a * 2` repeated the tuple, silently; compiled, it raised AttributeError."""

import pytest
import torch

import graphnet


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("form", ["tuple", "list", "keyword", "spread"])
def test_cond_operands_as_torch_takes_them(form, compiled):
    def call(lib, pred, a, b):
        t, f = (lambda x, y: x * 2 + y), (lambda x, y: x - y)
        if form == "tuple":
            return lib.cond(pred, t, f, (a, b))
        if form == "list":
            return lib.cond(pred, t, f, [a, b])
        if form == "keyword":
            return lib.cond(pred, t, f, operands=(a, b))
        return graphnet.cond(pred, t, f, a, b)    # graphnet's own form

    for flag in (True, False):
        want = call(torch, torch.tensor(flag), torch.ones(2), torch.full((2,), 3.0)) \
            if form != "spread" else (torch.full((2,), 5.0) if flag else torch.full((2,), -2.0))
        fn = (lambda p, a, b: call(graphnet, p, a, b))
        fn = graphnet.compile(fn) if compiled else fn
        got = fn(graphnet.tensor(flag), graphnet.ones(2), graphnet.full((2,), 3.0))
        assert got.tolist() == want.tolist()


def test_operands_given_twice_raise():
    with pytest.raises(TypeError, match="both positionally and as operands="):
        graphnet.cond(graphnet.tensor(True), lambda a: a, lambda a: a, graphnet.ones(1),
                      operands=(graphnet.ones(1),))
