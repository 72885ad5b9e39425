"""AdaptiveLogSoftmaxWithLoss evaluates only the tail clusters some target falls in, as
PyTorch's does: the other clusters' weights keep `.grad` None, so Adam, momentum and weight
decay leave them alone. graphnet evaluated every cluster and gave them zero gradients, which
Adam still stepped on (0.12 away from PyTorch after three steps). Compiled, the used clusters
are a fact of the target argument's values: the program is built for it and traces again when
a call's targets use other clusters; targets the traced code computes are refused."""

import numpy as np
import pytest
import torch

import graphnet as gn

CUTOFFS = [5, 20]
X = np.random.default_rng(0).standard_normal((6, 16)).astype(np.float32)
ALL = np.array([0, 7, 25, 3, 40, 12])      # every cluster
HEAD = np.array([0, 1, 2, 3, 4, 0])        # no tail cluster
FIRST = np.array([0, 7, 2, 3, 9, 12])      # the first tail cluster only
SECOND = np.array([0, 30, 2, 3, 49, 1])    # the second tail cluster only


def _pair():
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 50, cutoffs=CUTOFFS, div_value=2.0)
    gm = gn.nn.AdaptiveLogSoftmaxWithLoss(16, 50, cutoffs=CUTOFFS, div_value=2.0)
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _grads(model):
    return {n: None if p.grad is None else p.grad.numpy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("targets", [ALL, HEAD, FIRST, SECOND],
                         ids=["all", "head", "first", "second"])
def test_unused_clusters_get_no_gradient(static, targets):
    tm, gm = _pair()
    tm(torch.tensor(X), torch.tensor(targets)).loss.backward()
    fn = gn.compile(gm) if static else gm
    fn(gn.tensor(X), gn.tensor(targets)).loss.backward()
    want, got = _grads(tm), _grads(gm)
    assert {n for n, g in got.items() if g is None} == {n for n, g in want.items() if g is None}
    for name, g in want.items():
        if g is not None:
            np.testing.assert_allclose(got[name], g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_adam_leaves_unused_clusters_alone_across_changing_batches(static):
    tm, gm = _pair()
    topt = torch.optim.Adam(tm.parameters(), lr=0.1, weight_decay=0.01)
    gopt = gn.optim.Adam(gm.parameters(), lr=0.1, weight_decay=0.01)

    def gstep(x, y):
        gopt.zero_grad()
        out = gm(x, y)
        out.loss.backward()
        gopt.step()
        return out.loss

    step = gn.compile(gstep) if static else gstep
    for targets in (ALL, HEAD, FIRST, SECOND, HEAD, ALL, SECOND):
        topt.zero_grad()
        want = tm(torch.tensor(X), torch.tensor(targets)).loss
        want.backward()
        topt.step()
        got = step(gn.tensor(X), gn.tensor(targets))
        assert abs(float(got) - want.item()) < 1e-4
    for (name, p), q in zip(tm.named_parameters(), gm.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), atol=2e-5,
                                   err_msg=name)
    if static:   # one program per set of used clusters, each reused
        programs = [a for kept in step.compiled.cache.values() for a in kept]
        assert sorted(a.calls for a in programs) == [1, 2, 2, 2]   # FIRST ran once


def test_compiled_step_with_targets_computed_inside_is_refused():
    _, gm = _pair()

    def loss_of(x, tokens):
        return gm(x, tokens[1:]).loss   # targets the traced code makes: no values while tracing

    with pytest.raises(gn.TraceError, match="needs its target as an argument"):
        gn.compile(loss_of)(gn.tensor(X), gn.tensor(np.append(ALL, 1))).backward()


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_without_gradients_every_cluster_serves_as_before(static):
    tm, gm = _pair()
    gm.eval()

    def score(x, tokens):
        with gn.no_grad():
            return gm(x, tokens[1:]).output   # computed targets are fine without gradients

    fn = gn.compile(score) if static else score
    tokens = np.append(1, FIRST)
    got = fn(gn.tensor(X), gn.tensor(tokens)).numpy()
    want = tm(torch.tensor(X), torch.tensor(tokens[1:])).output.detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "int16", "uint8", "bool"])
def test_targets_of_other_dtypes_raise_pytorchs_gather_error(dtype):
    for lib in (torch, gn):
        asm = lib.nn.AdaptiveLogSoftmaxWithLoss(16, 50, cutoffs=CUTOFFS)
        target = lib.tensor([1, 0]).to(getattr(lib, dtype))
        with pytest.raises(RuntimeError, match=r"gather\(\): Expected dtype int32/int64 for index"):
            asm(lib.randn(2, 16), target)
