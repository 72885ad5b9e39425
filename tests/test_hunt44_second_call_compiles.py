"""A compiled training step is compiled by XLA once, not again on its second call: jit keyed
its executables by the inputs' commitment, and a first call's inputs (fresh `.grad` buffers,
parameters made by a factory) are uncommitted where the second call's (the program's own
outputs) are committed. For an unrolled simulation the second compile cost as long as the
first (seconds); whole programs now place every input on the one device."""

import logging

import jax
import pytest

import graphnet


class _Spring(graphnet.nn.Module):
    def __init__(self, steps):
        super().__init__()
        self.k = graphnet.nn.Parameter(graphnet.tensor([1.0, 2.0, 0.5]))
        self.steps, self.dt = steps, 0.02

    def forward(self, x, v):
        xs = []
        for _ in range(self.steps):
            v = v - self.dt * self.k * x
            x = x + self.dt * v
            xs.append(x)
        return graphnet.stack(xs, 1)


class _Count(logging.Handler):
    def __init__(self):
        super().__init__()
        self.compiles = 0

    def emit(self, record):
        if record.getMessage().startswith("Compiling"):
            self.compiles += 1


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_second_call_compiles_nothing(optimizer):
    model = _Spring(12)
    opt = graphnet.optim.SGD(model.parameters(), lr=1e-2) \
        if optimizer == "sgd" else graphnet.optim.Adam(model.parameters(), lr=1e-2)

    @graphnet.compile
    def step(x, v):
        opt.zero_grad()
        loss = (model(x, v) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    x, v = graphnet.randn(4, 3), graphnet.zeros(4, 3)
    step(x, v)
    counter, logger = _Count(), logging.getLogger("jax")
    logger.addHandler(counter)
    try:
        with jax.log_compiles(True):
            losses = [float(step(x, v)) for _ in range(3)]
    finally:
        logger.removeHandler(counter)
    assert counter.compiles == 0
    assert losses[0] > losses[1] > losses[2]
    assert step.compiled.recompile_reasons == ["first call"]
