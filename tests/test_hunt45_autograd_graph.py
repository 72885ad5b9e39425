"""The autograd graph as PyTorch scripts read and hook it: next_functions' (None, 0)
entries and the grad_inputs positions of node hooks, one AccumulateGrad per leaf with its
hooks, Node and increment_version, prod's node name, and a clear refusal inside a trace."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _names(node):
    return [None if n is None else n.name() for n, _ in node.next_functions]


CASES = {
    "const_times_x": lambda L, c, x: c * x,
    "x_times_const": lambda L, c, x: x * c,
    "where": lambda L, c, x: L.where(x > 1, x, c),
    "maximum": lambda L, c, x: L.maximum(c, x),
    "gather": lambda L, c, x: x.gather(0, L.tensor([0, 1])),
    "sum": lambda L, c, x: x.sum(),
    "add": lambda L, c, x: x + c,
    "sub": lambda L, c, x: c - x,
    "div": lambda L, c, x: x / c,
    "mse": lambda L, c, x: L.nn.functional.mse_loss(x, c),
    "cat": lambda L, c, x: L.cat([c, x]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_next_functions_keep_none_entries_as_torch(case):
    got = []
    for L in (torch, gn):
        c = L.tensor([4.0, 5.0, 6.0])
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        got.append(_names(CASES[case](L, c, x).grad_fn))
    assert got[1] == got[0]


def test_node_hook_edits_the_gradient_at_torch_positions():
    results = []
    for L in (torch, gn):
        c = L.tensor([4.0, 5.0, 6.0])
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = L.tensor([1.0, 1.0, 2.0], requires_grad=True)
        y = c * x
        z = L.where(x > 1, c, w)   # (cond, c, w): c takes no gradient, w does
        seen = []
        y.grad_fn.register_hook(lambda gi, go: (None if gi[0] is None else gi[0] * 0,
                                                gi[1] * 10))
        z.grad_fn.register_hook(lambda gi, go: seen.append([g is None for g in gi]) or
                                (gi[0], gi[1] * 3))
        (y.sum() + (z * z).sum()).backward()
        names = _names(z.grad_fn)
        results.append((x.grad.tolist(), w.grad.tolist(), seen, names))
        y2 = c * x
        y2.grad_fn.register_hook(lambda gi, go: (gi[1],))
        with pytest.raises(RuntimeError, match=r"incorrect number of values \(got 1, but "
                                               r"expected 2\)"):
            y2.sum().backward()
    assert results[1] == results[0]
    assert results[1][0] == [40.0, 50.0, 60.0]


def test_next_functions_entries_survive_backward_freeing_the_graph():
    for L in (torch, gn):
        c, x = L.ones(2), L.ones(2, requires_grad=True)
        y = (c * x).exp()
        y.sum().backward()
        assert _names(y.grad_fn.next_functions[0][0]) == \
            [None, "torch::autograd::AccumulateGrad"]


def test_one_accumulate_grad_per_leaf_and_its_hooks_run_as_torch():
    logs = []
    for L in (torch, gn):
        p = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = p * p + p.sin()
        first = y.grad_fn.next_functions[0][0].next_functions[0][0]
        assert first is y.grad_fn.next_functions[1][0].next_functions[0][0]
        acc = p.expand_as(p).grad_fn.next_functions[0][0]
        assert acc is first and acc.variable is p and isinstance(acc, L.autograd.graph.Node)
        log = []
        acc.register_prehook(lambda go, log=log: log.append(("pre", go[0].tolist())))
        handle = acc.register_hook(lambda gi, go, log=log, p=p: log.append(
            ("post", gi, go[0].tolist(), p.grad.tolist())))
        p.register_hook(lambda g, log=log: log.append(("tensor", g.tolist())))
        p.register_post_accumulate_grad_hook(lambda t, log=log: log.append(
            ("accumulated", t.grad.tolist())))
        (p * 3).sum().backward()
        acc.register_prehook(lambda go: (go[0] * 10,))
        (p * 3).sum().backward()
        handle.remove()
        (p * 3).sum().backward()
        logs.append((log, p.grad.tolist(), acc.name()))
    assert logs[1] == logs[0]


def test_node_isinstance_and_increment_version_as_torch():
    for L in (torch, gn):
        x = L.ones(2, requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        assert isinstance(z.grad_fn, L.autograd.graph.Node)
        assert not isinstance(x, L.autograd.graph.Node)
        L.autograd.graph.increment_version(y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward()
        w = L.ones(2, requires_grad=True)
        loss = (w * w).sum()
        L.autograd.graph.increment_version([w])
        with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
            loss.backward()


def test_prod_over_a_dim_is_its_own_node():
    for L in (torch, gn):
        x = L.ones(2, 3, requires_grad=True)
        assert [x.prod().grad_fn.name(), x.prod(1).grad_fn.name(),
                x.prod(dim=0, keepdim=True).grad_fn.name()] == \
            ["ProdBackward0", "ProdBackward1", "ProdBackward1"]


def test_next_functions_inside_a_trace_is_refused_not_empty():
    @gn.compile
    def step(a, b):
        loss = (a @ b).tanh().sum()
        return len(loss.grad_fn.next_functions) + loss

    with pytest.raises(gn.TraceError, match="next_functions of `SumBackward0` inside a "
                                            "graphnet.compile trace"):
        step(gn.ones(2, 3, requires_grad=True), gn.ones(3, 2, requires_grad=True))
    np.testing.assert_allclose(gn.compile(lambda a: a.sum().grad_fn.name() == "SumBackward0"
                                          and a * 2)(gn.ones(2, requires_grad=True))
                               .detach().numpy(), [2.0, 2.0])
