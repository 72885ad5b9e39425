"""Hoisting (compiler/hoist.py): an inference graph's state-only work (BatchNorm folded into
conv weights) runs once per parameter version, and never goes stale."""

import sys

import numpy as np

import graphnet
from graphnet import nn


def conv_bn_net():
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Conv2d(8, 4, 3), nn.BatchNorm2d(4), nn.Flatten())
    model.train()
    with graphnet.no_grad():   # running statistics away from 0 and 1
        for _ in range(3):
            model(graphnet.randn(4, 3, 6, 6) * 2 + 1)
    return model.eval()


def artifact_of(compiled):
    return compiled.compiled.artifacts[-1]


def test_folded_weights_are_computed_once_for_repeated_calls():
    model, x = conv_bn_net(), graphnet.randn(2, 3, 6, 6)
    compiled = graphnet.compile(model)
    with graphnet.no_grad():
        expected = model(x).numpy()
        outs = [compiled(x).numpy() for _ in range(3)]
    artifact = artifact_of(compiled)
    assert artifact.split is not None and artifact.hoist_cache.runs == 1
    assert len(artifact.split.hoisted) == 4          # two folded weights, two folded biases
    assert "run once per parameter version, 4 values hoisted" in (
        compiled.explain()["per_graph"][0]["hoisted"])
    for out in outs:
        np.testing.assert_allclose(out, expected, atol=1e-5, rtol=1e-5)


def test_changed_parameters_and_buffers_recompute_the_prologue():
    model, x = conv_bn_net(), graphnet.randn(2, 3, 6, 6)
    compiled = graphnet.compile(model)
    with graphnet.no_grad():
        before = compiled(x).numpy()
        model[0].weight.mul_(2.0)                    # in place, like an optimizer step
        after_weight = compiled(x).numpy()
        np.testing.assert_allclose(after_weight, model(x).numpy(), atol=1e-5, rtol=1e-5)
        state = model.state_dict()
        state["4.running_var"] = state["4.running_var"] * 4.0
        model.load_state_dict(state)
        after_load = compiled(x).numpy()
        np.testing.assert_allclose(after_load, model(x).numpy(), atol=1e-5, rtol=1e-5)
    assert artifact_of(compiled).hoist_cache.runs == 3
    assert not np.allclose(before, after_weight) and not np.allclose(after_weight, after_load)


def test_hoisting_keeps_no_reference_to_parameter_arrays():
    # A held reference would stop a later compiled training step from donating the buffer.
    model, x = conv_bn_net(), graphnet.randn(2, 3, 6, 6)
    compiled = graphnet.compile(model)
    before = sys.getrefcount(model[0].weight._value)
    with graphnet.no_grad():
        compiled(x)
    after = sys.getrefcount(model[0].weight._value)   # outside assert: pytest's rewrite holds refs
    assert artifact_of(compiled).split is not None and after == before


class StandardizedLinear(nn.Module):
    """Weight standardization: state-only work that stays in a graph whose gradients are
    taken (BatchNorm folding does not: it would move ties, compiler/passes/eval_mode.py)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(graphnet.randn(4, 3))

    def forward(self, x):
        w = self.weight - self.weight.mean(1, keepdim=True)
        return x @ (w / w.norm()).t()


def test_backward_through_a_hoisted_forward_reaches_the_parameters():
    graphnet.manual_seed(0)
    model, x = StandardizedLinear(), graphnet.randn(2, 3)
    compiled = graphnet.compile(model)
    compiled(x).square().sum().backward()
    static = [p.grad.numpy() for p in model.parameters()]
    model.zero_grad()
    model(x).square().sum().backward()
    assert artifact_of(compiled).split is not None
    for got, want in zip(static, [p.grad.numpy() for p in model.parameters()], strict=True):
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_graphs_that_write_state_or_opt_out_are_not_split():
    model, x = conv_bn_net(), graphnet.randn(2, 3, 6, 6)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1)

    @graphnet.compile
    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        return loss

    step(x)
    assert artifact_of(step).split is None
    plain = graphnet.compile(model, hoist=False)
    with graphnet.no_grad():
        plain(x)
    assert artifact_of(plain).split is None
    unfolded = graphnet.compile(model, disable=["eval_mode_rewrites"])
    with graphnet.no_grad():
        unfolded(x)
    assert artifact_of(unfolded).split is None      # nothing but the convs' own weights
