"""A compiled step that indexes a parameter with tensor elements made in the trace
(`trans[tags[i + 1], tags[i]]`, the BiLSTM-CRF tutorial's gold-path score) runs its program
from the second call on. The view's entry in the parameter's view list kept a closure over
those index tensors after the view was gone, so they looked like state the trace created and
every call traced and compiled again (10 s a call for the tutorial). Found while timing the
CRF tutorial's compile."""

import numpy as np
import pytest
import torch

import graphnet


def _step(L, compiled: bool, kind: str):
    L.manual_seed(0)
    trans = L.nn.Parameter(L.arange(25.0).reshape(5, 5) / 10)
    opt = L.optim.SGD([trans], lr=0.1)

    def step(tags):
        if kind == "forward":
            with L.no_grad():
                return trans[tags[1], tags[0]] * 2
        opt.zero_grad()
        score = L.zeros(1)
        for i in range(len(tags) - 1):
            score = score + trans[tags[i + 1], tags[i]]
        loss = -score.sum()
        loss.backward()
        opt.step()
        return loss.detach()

    return (graphnet.compile(step) if compiled else step), trans


@pytest.mark.parametrize("kind", ["forward", "step"])
def test_indexing_with_traced_index_elements_traces_once(kind):
    want_fn, want_trans = _step(torch, False, kind)
    fn, trans = _step(graphnet, True, kind)
    tags = [0, 1, 2, 1, 0]
    for _ in range(4):
        want = want_fn(torch.tensor(tags))
        got = fn(graphnet.tensor(tags))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    np.testing.assert_allclose(trans.detach().numpy(), want_trans.detach().numpy(), rtol=1e-6)
    assert fn.explain()["recompile_reasons"] == ["first call"]


def _forward_algorithm(L, feats_weight):
    """The BiLSTM-CRF tutorial's partition function, per tag in Python loops: views of
    tensors the trace made, and views of views, refer to each other in cycles."""
    trans = L.nn.Parameter(L.arange(16.0).reshape(4, 4) / 20)
    lin = L.nn.Linear(3, 4)
    with L.no_grad():
        lin.weight.copy_(L.tensor(feats_weight))
        lin.bias.zero_()
    opt = L.optim.SGD([trans, *lin.parameters()], lr=0.05)

    def step(x):
        opt.zero_grad()
        init = L.full((1, 4), -10000.0)
        init[0][2] = 0.0
        forward_var = init
        for feat in lin(x):
            alphas = []
            for tag in range(4):
                v = forward_var + trans[tag].view(1, -1) + feat[tag].view(1, -1).expand(1, 4)
                top = v.max()
                alphas.append((top + L.log(L.sum(L.exp(v - top)))).view(1))
            forward_var = L.cat(alphas).view(1, -1)
        loss = forward_var.logsumexp(1).sum()
        loss.backward()
        opt.step()
        return loss.detach()

    return step, trans


def test_a_crf_forward_algorithm_traces_once_with_automatic_gc_off():
    import gc

    weight = (np.arange(12.0).reshape(4, 3) / 10 - 0.5).tolist()
    want_step, want_trans = _forward_algorithm(torch, weight)
    step, trans = _forward_algorithm(graphnet, weight)
    compiled = graphnet.compile(step)
    x = [[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]]
    enabled = gc.isenabled()
    gc.disable()   # cycles are then left to the trace's own collection
    try:
        for _ in range(4):
            want = want_step(torch.tensor(x))
            got = compiled(graphnet.tensor(x))
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    finally:
        if enabled:
            gc.enable()
    np.testing.assert_allclose(trans.detach().numpy(), want_trans.detach().numpy(), rtol=1e-5)
    assert len(compiled.explain()["recompile_reasons"]) <= 2   # the first call, then .grads
