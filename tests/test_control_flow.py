"""Value-dependent control flow: refused with the user's line when written as Python, handled
when written with graphnet.cond / graphnet.while_loop (in both modes)."""

import numpy as np
import pytest
from parity import np_of

import graphnet
from graphnet import nn


class FancyMLP(nn.Module):
    """The seed tutorial's FancyMLP: a constant weight, a reused layer, a data-dependent loop."""

    def __init__(self):
        super().__init__()
        self.rand_weight = graphnet.rand((20, 20), requires_grad=False)
        self.linear = nn.Linear(20, 20)

    def forward(self, x):
        x = self.linear(x)
        x = nn.functional.relu(graphnet.mm(x, self.rand_weight.data) + 1)
        x = self.linear(x)
        while x.norm().item() > 1:
            x /= 2
        if x.norm().item() < 0.8:
            x *= 10
        return x.sum()


class FancyMLPStructured(FancyMLP):
    """The same model with its control flow written so a static graph can hold it."""

    def forward(self, x):
        x = self.linear(x)
        x = nn.functional.relu(graphnet.mm(x, self.rand_weight.data) + 1)
        x = self.linear(x)
        x = graphnet.while_loop(lambda v: v.norm() > 1, lambda v: v / 2, x)
        x = graphnet.cond(x.norm() < 0.8, lambda v: v * 10, lambda v: v, x)
        return x.sum()


def test_fancy_mlp_python_loop_is_refused_with_its_source_line():
    graphnet.manual_seed(0)
    model = FancyMLP()
    x = graphnet.rand(2, 20)
    assert np.isfinite(model(x).item())  # fine dynamically
    with pytest.raises(graphnet.TraceError) as err:
        graphnet.compile(model)(x)
    message = str(err.value)
    assert "test_control_flow.py" in message and "while x.norm().item() > 1" in message
    assert "graphnet.while_loop" in message and "graphnet.cond" in message


def test_fancy_mlp_with_structured_control_flow_compiles_and_matches_dynamic():
    graphnet.manual_seed(0)
    model = FancyMLPStructured()
    reference = FancyMLP()
    reference.load_state_dict(model.state_dict())
    reference.rand_weight = model.rand_weight
    fast = graphnet.compile(model)
    for seed in range(3):
        graphnet.manual_seed(seed)
        x = graphnet.rand(2, 20)
        with graphnet.no_grad():
            expected = reference(x).item()
            assert abs(model(x).item() - expected) < 1e-5
            assert abs(fast(x).item() - expected) < 1e-5
    assert "while_loop(" in str(fast.graph) and "cond(" in str(fast.graph)


@pytest.mark.parametrize("compiled", [False, True])
def test_cond_picks_the_branch_by_value_and_differentiates(compiled):
    w = graphnet.tensor([1.0, 2.0], requires_grad=True)

    def f(x):
        out = graphnet.cond(x.sum() > 0, lambda t: t * w, lambda t: t + w, x)
        out.sum().backward()
        return out

    fn = graphnet.compile(f) if compiled else f
    assert fn(graphnet.ones(2)).tolist() == [1.0, 2.0]
    assert w.grad.tolist() == [1.0, 1.0]
    w.grad = None
    assert fn(-graphnet.ones(2)).tolist() == [0.0, 1.0]
    assert w.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("compiled", [False, True])
def test_while_loop_with_tuple_carry(compiled):
    def collatz_steps(n, steps):
        def body(n, steps):
            n = graphnet.where(n % 2 == 0, n // 2, 3 * n + 1)
            return n, steps + 1

        return graphnet.while_loop(lambda n, s: n > 1, body, (n, steps))

    fn = graphnet.compile(collatz_steps) if compiled else collatz_steps
    n, steps = fn(graphnet.tensor(27), graphnet.tensor(0))
    assert n.item() == 1 and steps.item() == 111


def test_branches_with_different_types_are_refused():
    def f(x):
        return graphnet.cond(x.sum() > 0, lambda t: t, lambda t: t.sum(), x)

    with pytest.raises(graphnet.TraceError, match="branches return different types"):
        graphnet.compile(f)(graphnet.ones(3))


def test_traced_cond_graph_lists_both_branches():
    graph = graphnet.trace_graph(lambda x: graphnet.cond(x.sum() > 0, lambda t: t * 2,
                                                   lambda t: -t, x), graphnet.ones(3))
    text = str(graph)
    assert "graph cond_true(%arg0: f32[3]):" in text and "%neg: f32[3] = neg(%arg0)" in text
    assert np_of(graphnet.compile(lambda x: x * 1)(graphnet.ones(1))).tolist() == [1.0]


def _repeat_layer(layer):
    def forward(x):
        return graphnet.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, layer(h).tanh()),
                                   (graphnet.tensor(0), x))[1]
    return forward


def test_while_loop_differentiates_dynamically_and_is_refused_with_reasons_statically():
    graphnet.manual_seed(0)
    layer = nn.Linear(3, 3)
    forward, x = _repeat_layer(layer), graphnet.randn(2, 3)
    forward(x).sum().backward()              # dynamic: a Python loop on the tape
    expected = layer(layer(layer(x).tanh()).tanh()).tanh().sum()
    layer.zero_grad()
    expected.backward()
    eager_grad = layer.weight.grad.numpy()
    layer.zero_grad()
    forward(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), eager_grad, atol=1e-6)

    def step(x):
        loss = forward(x).sum()
        loss.backward()
        return loss

    with pytest.raises(graphnet.TraceError, match=r"backward\(\) through graphnet.while_loop "
                       r"\(at .*test_control_flow.py:\d+\) is not supported in static mode"):
        graphnet.compile(step)(x)
    compiled_forward = graphnet.compile(forward)(x)   # forward only: fine, joins the tape
    assert compiled_forward.requires_grad
    with pytest.raises(graphnet.TraceError, match="mode='dynamic'"):
        compiled_forward.sum().backward()


def test_while_loop_without_grad_inputs_compiles_under_backward_of_other_paths():
    graphnet.manual_seed(0)
    layer, x = nn.Linear(3, 3), graphnet.randn(2, 3)

    def step(x):
        with graphnet.no_grad():
            scale = graphnet.while_loop(lambda s: s < 10, lambda s: s * 2, graphnet.tensor(1.0))
        loss = (layer(x) * scale).sum()
        loss.backward()
        return loss

    loss = graphnet.compile(step)(x)
    static_grad = layer.weight.grad.numpy()
    layer.zero_grad()
    assert abs(step(x).item() - loss.item()) < 1e-5
    np.testing.assert_allclose(static_grad, layer.weight.grad.numpy(), atol=1e-6)
