"""The guards' cheap paths (compiler/guards.py, the optimizer's and leaves' hook reads):
each compiled call compares what its trace read by identity or one C-level equality where
that is exact, and must still notice every change the slow comparison noticed. Each test
changes one such thing between calls and checks the compiled call against eager."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet
from graphnet import nn
from graphnet.compiler.guards import same_plain

F = graphnet.nn.functional


@pytest.mark.parametrize("a, b, same", [
    ((1, 2, "x"), (1, 2, "x"), True),
    ((1, 2), (1.0, 2), False),          # an int and a float give other dtypes
    ((1, 2), (True, 2), False),
    ([1, None], [1, None], True),
    ((0.0, 1), (-0.0, 1), False),       # `1 / x` tells them apart
    ((float("nan"), 1), (float("nan"), 1), True),
    (((1, 2), 3), ((1.0, 2), 3), False),
    ((b"a", 1), (b"a", 1), True),
    ((1, 2), [1, 2], False),
    ((1, 2), (1, 2, 3), False),
])
def test_same_plain_keeps_types_apart(a, b, same):
    assert same_plain(a, b) is same
    assert same_plain(b, a) is same


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = (2, 3)

    def forward(self, x):
        return x * self.scale[0] + self.scale[1]


@pytest.mark.parametrize("new", [(2.0, 3), (True, 3), (2, 3.0), (2, 4)])
def test_a_tuple_attribute_of_another_type_recompiles(new):
    """An int tensor times 2 stays int64; times 2.0 (or True) it is float32 (or int64 of 2):
    the guard on `scale` must fail when an element changes type, not only value."""
    x = graphnet.tensor([1, 2, 3])
    m = Scaled()
    f = graphnet.compile(lambda x: m(x))
    assert f(x).dtype == graphnet.int64
    m.scale = new
    eager = x * new[0] + new[1]
    got = f(x)
    assert got.dtype == eager.dtype
    np.testing.assert_array_equal(got.numpy(), eager.numpy())


def _training(compiled: bool, change):
    graphnet.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = graphnet.randn(4, 3), graphnet.tensor([0, 1, 1, 0])
    log = []

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    run = graphnet.compile(step) if compiled else step
    losses = [float(run(x, y)) for _ in range(2)]
    undo = change(model, opt, log)
    losses += [float(run(x, y)) for _ in range(2)]
    undo()
    losses += [float(run(x, y)) for _ in range(2)]
    return losses, log, [p.detach().numpy() for p in model.parameters()]


def _step_hook(model, opt, log):
    handle = opt.register_step_pre_hook(lambda o, a, k: log.append("pre"))
    return handle.remove


def _global_step_hook(model, opt, log):
    handle = graphnet.optim.optimizer.register_optimizer_step_post_hook(
        lambda o, a, k: log.append("post"))
    return handle.remove


def _leaf_hook(model, opt, log):
    handle = model.weight.register_hook(lambda g: g * 10)
    return handle.remove


def _post_accumulate_hook(model, opt, log):
    handle = model.bias.register_post_accumulate_grad_hook(lambda p: log.append("acc"))
    return handle.remove


@pytest.mark.filterwarnings("ignore:.*changes Python state on every call")
@pytest.mark.parametrize("change", [_step_hook, _global_step_hook, _leaf_hook,
                                    _post_accumulate_hook])
def test_hooks_added_and_removed_between_compiled_calls(change):
    eager = _training(False, change)
    static = _training(True, change)
    np.testing.assert_allclose(static[0], eager[0], rtol=1e-6)
    assert static[1] == eager[1]
    assert len(eager[1]) in (0, 2)
    for a, b in zip(static[2], eager[2], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_parameter_of_another_dtype_or_requires_grad_recompiles():
    graphnet.manual_seed(0)
    model = nn.Linear(3, 2)
    x = graphnet.randn(4, 3)
    f = graphnet.compile(lambda x: model(x))
    f(x)
    model.bias.requires_grad_(False)
    out = f(x)
    np.testing.assert_allclose(out.detach().numpy(), model(x).detach().numpy())
    reasons = f.explain()["recompile_reasons"]
    assert any("requires_grad=True" in r for r in reasons), reasons
    model.double()
    out = f(x.double())
    np.testing.assert_allclose(out.detach().numpy(), model(x.double()).detach().numpy())
    assert out.dtype == graphnet.float64
