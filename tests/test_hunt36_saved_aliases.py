"""A saved `.data` or `detach()` alias, then its source written in place before backward (a
MoCo queue used in the logits, then enqueued): `q @ queue.data` reads the new values in
PyTorch (`.data` has its own version counter over the shared storage), and
`q @ queue.detach()` or `q @ queue[:, :1].detach()` raises (detach shares the counter).
graphnet read the old values in all three, silently (a detached view compiled too). Eager
mode now does as PyTorch; a trace cannot read the new values, so it raises. Found by the
BYOL/MoCo hunt."""

import pytest
import torch

import graphnet


def _step(L, saved, write):
    w = L.nn.Parameter(L.ones(1, 2))
    queue = L.tensor([[1.0, 2.0], [3.0, 4.0]])

    def step():
        logits = (w * 1) @ saved(queue)
        write(L, queue)
        logits.sum().backward()
        return w.grad

    return step


WRITES = {"mul_": lambda L, q: q.mul_(2),
          "slice": lambda L, q: q.__setitem__((slice(None), slice(0, 1)), L.zeros(2, 1)),
          "through_detach": lambda L, q: q.detach().mul_(2)}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_data_alias_reads_the_new_values(write):
    want = _step(torch, lambda q: q.data, WRITES[write])()
    got = _step(graphnet, lambda q: q.data, WRITES[write])()
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_compiled_data_alias_read_after_a_write_is_refused(write):
    with pytest.raises(graphnet.TraceError, match=r"\.data"):
        graphnet.compile(_step(graphnet, lambda q: q.data, WRITES[write]))()


SAVED = {"detach": lambda q: q.detach(), "detached_view": lambda q: q[:, :1].detach(),
         "detached_column_view": lambda q: q[:, 1:].detach()}


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("saved", sorted(SAVED))
def test_a_detached_alias_written_through_its_source_raises(saved, write, compiled):
    def matmul_shape(q):   # (1, 2) @ (2, k)
        return SAVED[saved](q)

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _step(torch, matmul_shape, WRITES[write])()
    step = _step(graphnet, matmul_shape, WRITES[write])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (graphnet.compile(step) if compiled else step)()


def test_a_data_alias_written_itself_still_raises():
    for L in (torch, graphnet):
        w = L.nn.Parameter(L.ones(1, 2))
        a = L.tensor([[1.0, 2.0], [3.0, 4.0]]).data
        logits = (w * 1) @ a
        a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            logits.sum().backward()
