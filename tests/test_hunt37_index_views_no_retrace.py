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
