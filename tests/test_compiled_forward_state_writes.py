"""A compiled forward that writes its own state, and parametrizations with state, against
PyTorch: a running normaliser and spectral_norm read buffers they update (backward through
the compiled forward needs the call's old values, so nothing is donated), and
`parametrize.cached()` runs spectral_norm's power iteration once per block inside a trace
as eagerly."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError

X = [np.random.RandomState(i).randn(5, 4).astype(np.float32) for i in range(3)]


def _normaliser(lib):
    class Normaliser(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(4, 3)
            self.register_buffer("mean", lib.zeros(4))

        def forward(self, x):
            with lib.no_grad():
                self.mean.mul_(0.9).add_(x.mean(0), alpha=0.1)
            return self.lin(x - self.mean)

    return Normaliser()


def _spectral(lib):
    lin = lib.nn.Linear(4, 3)
    lib.nn.utils.parametrizations.spectral_norm(lin)
    return lin


def _same_start(tmodel, gmodel):
    gmodel.load_state_dict({k: gn.tensor(v.detach().numpy())
                            for k, v in tmodel.state_dict().items()})


@pytest.mark.parametrize("make", [_normaliser, _spectral], ids=["normaliser", "spectral_norm"])
def test_compiled_forward_that_writes_state_then_backward(make):
    tmodel, gmodel = make(torch), make(gn)
    _same_start(tmodel, gmodel)
    fast = gn.compile(gmodel)
    for x in X:
        tout = tmodel(torch.tensor(x))
        (tout * tout).sum().backward()
        gout = fast(gn.tensor(x))
        (gout * gout).sum().backward()
        np.testing.assert_allclose(gout.detach().numpy(), tout.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    tstate = {k: v.detach().numpy() for k, v in tmodel.state_dict().items()}
    for k, v in gmodel.state_dict().items():
        np.testing.assert_allclose(v.numpy(), tstate[k], rtol=1e-5, atol=1e-6, err_msg=k)
    tgrads = {k: p.grad.numpy() for k, p in tmodel.named_parameters()}
    for k, p in gmodel.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[k], rtol=1e-4, atol=1e-5, err_msg=k)


def _cached_step(lib, compiled):
    lin = _spectral(lib)
    with lib.no_grad():
        lin.parametrizations.weight.original.copy_(
            lib.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4) / 10))
        lin.bias.zero_()
        lin.parametrizations.weight[0]._u.copy_(lib.tensor([1.0, 0.0, 0.0]))
        lin.parametrizations.weight[0]._v.copy_(lib.tensor([1.0, 0.0, 0.0, 0.0]))

    def step(x):
        with lib.nn.utils.parametrize.cached():
            loss = lin(x).sum() + lin(2 * x).sum()
        loss.backward()
        return loss

    fn = gn.compile(step) if compiled else step
    losses = [float(fn(lib.ones(2, 4))) for _ in range(3)]
    return (losses, lin.parametrizations.weight.original.grad.numpy(),
            lin.parametrizations.weight[0]._u.numpy())


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_cached_block_runs_a_stateful_parametrization_once(compiled):
    want = _cached_step(torch, False)
    got = _cached_step(gn, compiled)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-5, atol=1e-6)


def test_cached_block_around_a_compiled_call_is_refused():
    lin = _spectral(gn).eval()     # no power iteration: the two sums below are equal
    fast = gn.compile(lambda x: lin(x).sum())
    with gn.nn.utils.parametrize.cached():
        with pytest.raises(TraceError, match="cached\\(\\) entered outside"):
            fast(gn.ones(2, 4))
    assert float(fast(gn.ones(2, 4))) == pytest.approx(float(lin(gn.ones(2, 4)).sum()), rel=1e-5)
