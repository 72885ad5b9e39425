"""ExecutionPlan and mode="plan": the same numbers as static and dynamic, a readable plan."""

import logging

import numpy as np
import pytest

import graphnet
import graphnet.nn.functional as F
from graphnet.compiler import trace
from graphnet.compiler.passes import run_pipeline
from graphnet import nn


def mlp():
    graphnet.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 4))


def data():
    rng = np.random.default_rng(0)
    return (graphnet.from_numpy(rng.standard_normal((5, 8), dtype=np.float32)),
            graphnet.from_numpy(rng.integers(0, 4, 5).astype(np.int64)))


def array(t) -> np.ndarray:
    return np.asarray(t.detach()._value)


# Peak at k0: all parameters and the input (graph inputs are live from the start until
# their last reader) plus %relu: 160 + 512 + 64 + 1024 + 64 + 256 + 16 + 320 = 2416.
FORWARD_PLAN = """\
plan Sequential: 3 kernels
  k0 contraction[linear, relu](%input, %0.weight, %0.bias) -> (%relu)  flops=1360 bytes=1056
  k1 contraction[linear_1, tanh](%relu, %2.weight, %2.bias) -> (%tanh)  flops=2640 bytes=1728
  k2 contraction[linear_2](%tanh, %4.weight, %4.bias) -> (%linear_2)  flops=640 bytes=672
  buffers (defined .. last read, bytes):
    %input: in .. k0, 160
    %0.weight: in .. k0, 512
    %0.bias: in .. k0, 64
    %2.weight: in .. k1, 1024
    %2.bias: in .. k1, 64
    %4.weight: in .. k2, 256
    %4.bias: in .. k2, 16
    %relu: k0 .. k1, 320
    %tanh: k1 .. k2, 320
    %linear_2: k2 .. end, 80
  est peak bytes: 2416"""


def test_mlp_forward_plan_equals_static_and_dynamic():
    model, (x, _) = mlp(), data()
    expected = array(model(x))
    static, planned = graphnet.compile(model), graphnet.compile(model, mode="plan", debug=True)
    np.testing.assert_allclose(array(static(x)), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(array(planned(x)), expected, rtol=1e-6, atol=1e-6)
    info = planned.explain()["per_graph"][0]
    assert info["kernels"] == 3 and info["plan"] == FORWARD_PLAN
    assert static.explain()["per_graph"][0]["plan"] == FORWARD_PLAN   # same plan, run whole


def training_run(mode: str, steps: int = 3):
    model, (x, y) = mlp(), data()
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = train_step if mode == "dynamic" else graphnet.compile(train_step, mode=mode)
    losses = [float(step(x, y)) for _ in range(steps)]
    return losses, [array(p) for p in model.parameters()], step


def test_sgd_training_step_plan_equals_static_and_dynamic():
    runs = {mode: training_run(mode) for mode in ("dynamic", "static", "plan")}
    losses, params, _ = runs["dynamic"]
    assert losses[2] < losses[0]
    for mode in ("static", "plan"):
        np.testing.assert_allclose(runs[mode][0], losses, rtol=1e-6, err_msg=mode)
        for got, want in zip(runs[mode][1], params, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=mode)
    info = runs["plan"][2].explain()["per_graph"]
    # step 1 creates the momentum buffers, steps 2-3 read them: two graphs, same kernels
    assert [g["kernels"] for g in info] == [2, 2]
    lines = info[1]["plan"].splitlines()
    assert lines[0] == "plan train_step: 2 kernels"
    assert lines[1].startswith("  k0 grad[linear, relu, linear_1, tanh, linear_2, "
                               "cross_entropy, grad](%x, %0.weight, %0.bias, %2.weight, ")
    assert lines[2].startswith("  k1 opaque[sgd_update](%group0.lr, %group0.momentum, ")


def test_memory_estimate_is_sane():
    model, (x, _) = mlp(), data()
    plan, _ = run_pipeline(trace(model, x))
    total = sum(b.nbytes for b in plan.lifetimes)
    assert 0 < plan.est_peak_bytes <= total
    # everything the plan reads or writes is a buffer: inputs, kernel outputs, outputs
    assert {b.value.name for b in plan.lifetimes} >= {v.name for v in plan.graph.inputs}


def test_compiled_forward_in_plan_mode_joins_the_dynamic_tape():
    model, (x, _) = mlp(), data()
    graphnet.compile(model, mode="plan")(x).sum().backward()
    planned = array(model[0].weight.grad)
    model.zero_grad()
    model(x).sum().backward()
    np.testing.assert_allclose(planned, array(model[0].weight.grad), rtol=1e-5, atol=1e-6)


def test_passes_are_chosen_by_name_and_logged(monkeypatch, caplog):
    model, (x, _) = mlp(), data()
    monkeypatch.setenv("GRAPHNET_LOG", "passes")
    compiled = graphnet.compile(model, mode="plan", passes=["dead_code_elimination"])
    with caplog.at_level(logging.WARNING, logger="graphnet"):
        compiled(x)
    info = compiled.explain()["per_graph"][0]
    assert info["pass_stats"] == ["dead_code_elimination: 0 nodes removed (5 -> 5 nodes)"]
    assert info["kernels"] == 5          # without fuse_kernels: one kernel per node
    assert "dead_code_elimination: 0 nodes removed" in caplog.text
    with pytest.raises(ValueError, match="unknown pass"):
        graphnet.compile(model, disable=["no_such_pass"])(x)
    with pytest.raises(ValueError, match="graph passes must come before plan passes"):
        graphnet.compile(model, passes=["fuse_kernels", "dead_code_elimination"])(x)


def test_static_mode_builds_the_plan_only_when_read(monkeypatch):
    from graphnet.compiler import passes

    builds = []

    def counted(graph, *args, **kwargs):
        builds.append(graph)
        return real(graph, *args, **kwargs)

    real = passes.run_plan_passes
    monkeypatch.setattr(passes, "run_plan_passes", counted)
    model, (x, _) = mlp(), data()
    static = graphnet.compile(model)
    static(x)
    static(x)
    artifact = static.compiled.artifacts[0]
    assert builds == []                    # compiling and running never built a plan
    assert [line.split(":")[0] for line in artifact.pass_stats] == [
        "shape_propagation", "constant_folding", "algebraic_simplification",
        "common_subexpression_elimination", "eval_mode_rewrites", "dead_code_elimination"]
    info = static.explain()["per_graph"][0]
    assert builds == [artifact.graph]      # from the graph static mode lowered, once
    assert artifact.plan is artifact.plan and artifact.plan.graph is artifact.graph
    assert info["plan"] == FORWARD_PLAN and static.explain()["per_graph"][0]["plan_s"] > 0
    assert info["pass_stats"][-2:] == ["fuse_kernels: 5 nodes in 5 kernels -> 3 kernels",
                                       "plan_memory: 10 buffers, est peak 2416 bytes (at k0)"]
    assert len(builds) == 1
    planned = graphnet.compile(model, mode="plan")
    planned(x)
    assert len(builds) == 2                # mode="plan" runs the plan, so builds it at once
