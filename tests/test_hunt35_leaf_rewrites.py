"""A leaf written in place twice inside a compiled step (under no_grad) keeps the gradient
of every read between the writes: `Embedding(max_norm=...)` looked up twice renormalises
before each lookup, and the compiled gradient of all but the last lookup was dropped (the
loss was right; the weights drifted over a TransE run), or backward() found no leaf."""

import numpy as np
import pytest
import torch

import graphnet

ROWS = [[3.0, 0.0], [0.0, 4.0], [1.0, 1.0]]


def _twice(lib, compiled, bag=False):
    e = (lib.nn.EmbeddingBag(3, 2, max_norm=1.0, mode="sum") if bag
         else lib.nn.Embedding(3, 2, max_norm=1.0))
    with lib.no_grad():
        e.weight.copy_(lib.tensor(ROWS))

    def step(h, t):
        loss = (e(h) * e(t)).sum()
        loss.backward()
        return loss

    if compiled:
        step = graphnet.compile(step)
    h, t = (lib.tensor([[0, 1]]), lib.tensor([[1, 2]])) if bag else \
        (lib.tensor([0, 1]), lib.tensor([1, 2]))
    loss = step(h, t)
    return loss.item(), e.weight.grad.tolist(), e.weight.tolist()


@pytest.mark.parametrize("bag", [False, True], ids=["embedding", "embedding_bag"])
@pytest.mark.parametrize("compiled", [False, True])
def test_two_max_norm_lookups_give_torch_gradients(bag, compiled):
    want = _twice(torch, False, bag)
    got = _twice(graphnet, compiled, bag)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-6, atol=1e-6)


def test_a_later_unused_lookup_leaves_the_earlier_gradient():
    e = graphnet.nn.Embedding(3, 2, max_norm=1.0)

    @graphnet.compile
    def step(h, t):
        a = e(h)
        e(t)
        loss = a.sum()
        loss.backward()
        return loss

    step(graphnet.tensor([0, 1]), graphnet.tensor([1, 2]))
    assert e.weight.grad.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]


def _reads_between_writes(lib, compiled):
    w = lib.nn.Parameter(lib.tensor(ROWS))

    def step(h, t):
        with lib.no_grad():
            w.mul_(0.5)
        a = w[h]
        with lib.no_grad():
            w.mul_(0.5)
        loss = (a * w[t]).sum()
        loss.backward()
        return loss

    if compiled:
        step = graphnet.compile(step)
    step(lib.tensor([0, 1]), lib.tensor([1, 2]))
    return w.grad.tolist()


def test_reads_between_two_no_grad_writes_reach_the_leaf():
    want = _reads_between_writes(torch, False)
    assert _reads_between_writes(graphnet, True) == want == [[0.0, 1.0], [1.75, 0.25],
                                                              [0.0, 2.0]]


def _transe(lib, compiled, steps=4):
    lib.manual_seed(0)
    ent = lib.nn.Embedding(5, 3, max_norm=1.0)
    rel = lib.nn.Embedding(2, 3)
    with lib.no_grad():
        ent.weight.copy_(lib.tensor(np.linspace(-2, 2, 15, dtype=np.float32).reshape(5, 3)))
        rel.weight.copy_(lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)))
    opt = lib.optim.SGD(list(ent.parameters()) + list(rel.parameters()), lr=0.1)

    def step(h, r, t, tn):
        opt.zero_grad()
        pos = (ent(h) + rel(r) - ent(t)).norm(p=2, dim=1)
        neg = (ent(h) + rel(r) - ent(tn)).norm(p=2, dim=1)
        loss = lib.relu(1.0 + pos - neg).mean()
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = graphnet.compile(step)
    batch = [lib.tensor(v) for v in ([0, 1, 2], [0, 1, 0], [3, 4, 1], [4, 0, 3])]
    losses = [step(*batch).item() for _ in range(steps)]
    return losses, ent.weight.tolist()


def test_a_compiled_transe_run_with_max_norm_matches_torch():
    want = _transe(torch, False)
    got = _transe(graphnet, True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.array(got[1]), np.array(want[1]), rtol=1e-5, atol=1e-6)
