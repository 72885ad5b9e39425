"""backward(inputs=...), backward(create_graph=True) and autograd.backward([...]) inside a
compiled micro-step accumulate into `.grad` across calls, as eagerly: the trace read `.grad`
without telling the tracer, so the program kept the first call's decision (write a new grad,
or add to that one tensor) and later calls overwrote the accumulated gradient, or added a
stale one, silently."""
import pytest
import torch

import graphnet as G


def _micro(lib, w, variant):
    def micro(x):
        out = (w * x).sum() ** 2
        if variant == "inputs":
            out.backward(inputs=[w])
        elif variant == "create_graph":
            out.backward(create_graph=True)
        else:
            lib.autograd.backward([out, 0.5 * out])
    return micro


def _run(lib, variant, compiled):
    w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
    micro = _micro(lib, w, variant)
    micro = G.compile(micro) if compiled else micro
    seen = []
    for k in range(3):
        micro(lib.tensor([1.0, float(k)]))
        seen.append(w.grad.tolist())
    w.grad = None
    micro(lib.tensor([1.0, 1.0]))
    seen.append(w.grad.tolist())
    return seen


@pytest.mark.parametrize("variant", ["inputs", "create_graph", "several"])
def test_compiled_micro_steps_accumulate_like_torch(variant):
    want = _run(torch, variant, False)
    assert _run(G, variant, False) == want
    assert _run(G, variant, True) == want


def test_grad_set_then_cleared_between_compiled_calls():
    got = []
    for lib, compiled in ((torch, False), (G, True)):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        w.grad = lib.tensor([10.0, 10.0])

        def micro():
            (w * w).sum().backward(create_graph=True)

        fn = G.compile(micro) if compiled else micro
        fn()
        w.grad = None
        fn()
        got.append(w.grad.tolist())
    assert got[1] == got[0] == [2.0, -4.0]
