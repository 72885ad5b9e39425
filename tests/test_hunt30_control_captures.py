"""graphnet.cond / while_loop branches that read a tensor needing grad from outside (a
non-leaf `h = w * 2`, a function argument, a module's output) pass its gradient on, as
eagerly and in PyTorch (torch.cond); before, static mode lost it silently."""

import numpy as np
import pytest

import graphnet
from graphnet import nn

torch = pytest.importorskip("torch")

X = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
W = np.array([0.5, -1.0], np.float32)


def _nonleaf_capture(lib, x, w):
    h = w * 2
    y = lib.cond(x.sum() > 0, lambda t: t * h, lambda t: t + h, (x,))
    (y.sum() + h.sum()).backward()


def _argument_capture(lib, x, w):
    y = lib.cond(x.sum() > 0, lambda t: t * w, lambda t: t - w, (x,))
    y.sum().backward()


@pytest.mark.parametrize("step", [_nonleaf_capture, _argument_capture])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cond_passes_the_gradient_of_a_captured_tensor(step, sign):
    wt = torch.tensor(W, requires_grad=True)
    step(torch, torch.tensor(X * sign), wt)
    for wrap in (lambda f: f, graphnet.compile):
        w = graphnet.tensor(W, requires_grad=True)
        wrap(lambda x, w: step(graphnet, x, w))(graphnet.tensor(X * sign), w)
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-6)


def test_cond_over_a_module_output_trains_the_module():
    graphnet.manual_seed(0)
    lin = nn.Linear(2, 2)

    def step(x):
        h = lin(x)
        y = graphnet.cond(x.sum() > 0, lambda t: t * h, lambda t: t - h, (x,))
        y.sum().backward()

    step(graphnet.tensor(X))
    want = [p.grad.numpy().copy() for p in lin.parameters()]
    lin.zero_grad()
    graphnet.compile(step)(graphnet.tensor(X))
    for p, g in zip(lin.parameters(), want):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)


def test_cond_capture_of_a_detached_value_carries_no_gradient():
    def step(x, w):
        h = (w * 2).detach()
        y = graphnet.cond(x.sum() > 0, lambda t: t * h, lambda t: t + h, (x,))
        (y.sum() + w.sum()).backward()

    for wrap in (lambda f: f, graphnet.compile):
        w = graphnet.tensor(W, requires_grad=True)
        wrap(step)(graphnet.tensor(X), w)
        assert w.grad.tolist() == [1.0, 1.0]


def test_backward_through_a_while_loop_body_capture_is_refused():
    def step(x, w):
        h = w * 2
        out = graphnet.while_loop(lambda t: t.sum() < 100, lambda t: t + h.sum(), (x,))[0]
        out.sum().backward()

    with pytest.raises(graphnet.TraceError, match="while_loop"):
        graphnet.compile(step)(graphnet.ones(2), graphnet.tensor(W, requires_grad=True))


@pytest.mark.parametrize("wrap", [lambda f: f, graphnet.compile], ids=["dynamic", "static"])
def test_cond_refuses_a_predicate_of_several_elements(wrap):
    f = wrap(lambda x: graphnet.cond(x > 0, lambda t: t * 2, lambda t: t + 1, (x,)))
    with pytest.raises(RuntimeError, match="Expected pred to be bool or single-element"):
        f(graphnet.ones(3))
