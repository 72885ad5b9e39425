"""An optimizer a compiled step reaches through an argument (`step(model, opt, x, y)`), an
argument's attribute (`step(trainer, ...)`) or a default argument (`def step(x, y, t=trainer)`)
has its parameter groups watched as one reached through a global: the user's code that
reads `group["lr"]` is guarded, and a step that sets it is traced again. Before, only
globals and closures were looked at, so a compiled step kept the lr it had read while
tracing, or stopped halving it, silently."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet

F = graphnet.nn.functional


class _Trainer:
    def __init__(self):
        graphnet.manual_seed(0)
        self.model = graphnet.nn.Linear(4, 3)
        self.opt = graphnet.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.5)


def _loss(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss


def _reads_lr(model, opt, x, y):
    loss = _loss(model, opt, x, y)
    lr = opt.param_groups[0]["lr"]   # the user's own decay, scaled by the lr
    with graphnet.no_grad():
        for p in model.parameters():
            p -= lr * 0.5 * p
    opt.step()
    return loss.detach()


def _halves_lr(model, opt, x, y):
    loss = _loss(model, opt, x, y)
    opt.param_groups[0]["lr"] *= 0.5
    opt.step()
    return loss.detach()


def _make(body, how, trainer):
    """(the step function, the arguments it takes besides x and y)."""
    if how == "arguments":
        return (lambda model, opt, x, y: body(model, opt, x, y)), (trainer.model, trainer.opt)
    if how == "trainer argument":
        return (lambda t, x, y: body(t.model, t.opt, x, y)), (trainer,)

    def step(x, y, t=trainer):   # "default argument"
        return body(t.model, t.opt, x, y)
    return step, ()


@pytest.mark.parametrize("how", ["arguments", "trainer argument", "default argument"])
@pytest.mark.parametrize("body,change", [(_reads_lr, True), (_halves_lr, False)],
                         ids=["reads lr", "halves lr"])
def test_an_optimizer_reached_through_arguments_is_watched(how, body, change):
    graphnet.manual_seed(1)
    x, y = graphnet.randn(6, 4), graphnet.tensor([0, 1, 2, 1, 0, 2])
    results = []
    for compiled in (False, True):
        trainer = _Trainer()
        fn, extra = _make(body, how, trainer)
        run = graphnet.compile(fn) if compiled else fn
        losses = []
        for i in range(4):
            losses.append(run(*extra, x, y).item())
            if change:   # a schedule set by hand between calls
                trainer.opt.param_groups[0]["lr"] = 0.1 / (i + 2)
        results.append((losses, trainer.model.weight.detach().numpy(),
                        trainer.opt.param_groups[0]["lr"]))
    (want, w_want, lr_want), (got, w_got, lr_got) = results
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(w_got, w_want, rtol=1e-6, atol=1e-7)
    assert lr_got == lr_want
