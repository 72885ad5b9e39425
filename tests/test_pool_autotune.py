"""Max-pool lowering candidates (graphnet/_ops/pool_candidates.py), their per-shape choice
(pool_autotune.py), 1-d and 3-d convolutions through the conv tuner, the XLA option sets
(graphnet/_xla.py), and where the choices are shown (explain(), the plan dump). Every
candidate must equal PyTorch's max_pool in values and input gradient, ties and NaN included;
the tuner runs on a fake timer, so nothing here depends on real timings."""

import json

import jax
import numpy as np
import pytest
from parity import torch

import graphnet
import graphnet.backends
from graphnet import _xla, nn
from graphnet._ops import conv_autotune, pool_autotune
from graphnet._ops.pool_candidates import CANDIDATES, candidates_for, fixed_rule, pool_by_direction

# (x shape, kernel, stride, padding, ceil_mode)
CASES = [
    ((2, 3, 9, 8), (2, 2), (2, 2), (0, 0), False),       # tiles, last row cropped
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), True),        # tiles exactly under ceil_mode
    ((2, 3, 10), (3,), (3,), (0,), False),               # 1-d
    ((1, 2, 6, 6, 6), (2, 2, 2), (2, 2, 2), (0, 0, 0), False),   # 3-d
    ((2, 3, 9, 9), (3, 3), (2, 2), (1, 1), False),       # overlapping, padded
    ((2, 3, 9, 9), (3, 3), (2, 2), (1, 1), True),        # ... and hanging over the edge
    ((2, 2, 7, 7), (2, 2), (2, 2), (0, 0), True),        # ceil_mode hangs over: no tiling
]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_CACHE", str(tmp_path / "autotune.json"))
    conv_autotune.clear_memory()
    yield tmp_path / "autotune.json"
    conv_autotune.set_enabled(None)
    conv_autotune.clear_memory()
    _xla.choose(None)


def torch_pool(x, kernel, stride, padding, ceil_mode):
    tx = torch.tensor(x, requires_grad=True)
    pool = getattr(torch.nn.functional, f"max_pool{len(kernel)}d")
    y = pool(tx, kernel, stride, padding, ceil_mode=ceil_mode)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), tx.grad.numpy(), g


def integer_valued(shape, seed=0):
    """Inputs with many ties (values 0..2): the gradient must go to each window's first max."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float32)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_every_offered_candidate_equals_torch_with_ties(case):
    shape, kernel, stride, padding, ceil = CASES[case]
    x = integer_valued(shape, case)
    y_ref, dx_ref, g = torch_pool(x, kernel, stride, padding, ceil)
    offered = candidates_for(shape, kernel, stride, padding, ceil)
    assert {"reduce_window", "window_stack"} <= set(offered)
    for name, directions in offered.items():
        fn = CANDIDATES[name][0]
        y, pull = jax.vjp(lambda v, fn=fn: fn(v, kernel, stride, padding, ceil), x)
        np.testing.assert_array_equal(np.asarray(y), y_ref, err_msg=f"{name} values")
        if "input_grad" in directions:
            np.testing.assert_allclose(np.asarray(pull(g)[0]), dx_ref, rtol=1e-6,
                                       atol=1e-6, err_msg=f"{name} input grad")


def test_tiled_winner_is_offered_only_where_windows_tile():
    assert "tiled_winner" in candidates_for(*CASES[0])
    assert "tiled_winner" in candidates_for(*CASES[3])
    assert "tiled_winner" not in candidates_for(*CASES[4])   # overlapping windows
    assert "tiled_winner" not in candidates_for(*CASES[6])   # a window hangs over the edge
    assert candidates_for(*CASES[0])["reduce_window"] == ("forward",)


def test_nan_is_its_windows_maximum_in_every_candidate():
    x = np.random.default_rng(3).standard_normal((1, 1, 4, 4)).astype(np.float32)
    x[0, 0, 1, 0] = np.nan
    y_ref, dx_ref, g = torch_pool(x, (2, 2), (2, 2), (0, 0), False)
    for name in ("window_stack", "tiled_winner"):
        fn = CANDIDATES[name][0]
        y, pull = jax.vjp(lambda v, fn=fn: fn(v, (2, 2), (2, 2), (0, 0), False), x)
        np.testing.assert_array_equal(np.asarray(y), y_ref)
        np.testing.assert_allclose(np.asarray(pull(g)[0]), dx_ref, err_msg=name)


@pytest.mark.parametrize("kernel", [(2, 2), (12, 12)])
def test_the_kept_winner_gives_torchs_gradient_and_gradient_of_gradient(kernel):
    # a window of more than 127 elements needs a wider winner than int8 (an eager pool that
    # kept it crashed with an OverflowError)
    x = integer_valued((2, 3, 33, 32), 5)
    y_ref, dx_ref, g = torch_pool(x, kernel, kernel, (0, 0), False)
    fn = CANDIDATES["tiled_winner"][0]
    pooled = jax.jit(lambda v: jax.vjp(lambda u: fn(u, kernel, kernel, (0, 0), False), v))
    y, pull = pooled(x)
    np.testing.assert_array_equal(np.asarray(y), y_ref)
    np.testing.assert_array_equal(np.asarray(pull(g)[0]), dx_ref)
    # the gradient is linear in the cotangent: its own gradient puts the input's back
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    (dx,) = torch.autograd.grad(torch.nn.functional.max_pool2d(tx, kernel), tx, tg,
                                create_graph=True)
    (ref,) = torch.autograd.grad((dx * torch.tensor(x)).sum(), tg)
    ours = jax.grad(lambda c: (jax.vjp(lambda u: fn(u, kernel, kernel, (0, 0), False), x)[1](c)[0]
                               * x).sum())(g)
    np.testing.assert_allclose(np.asarray(ours), ref.numpy())
    gx = graphnet.tensor(x, requires_grad=True)   # eagerly: the pool keeps its winner
    nn.functional.max_pool2d(gx, kernel).backward(graphnet.tensor(g))
    np.testing.assert_array_equal(gx.grad.numpy(), dx_ref)


@pytest.mark.parametrize("name", ["window_stack", "tiled_winner"])
def test_the_gradient_reaches_the_maximum_of_a_fused_producer(name):
    """XLA may compute a pool's input again inside another loop, rounded differently
    (pool_candidates.first_max). Under this suite's XLA flags (conftest.py), a mask
    `x == max` (the old tiled_mask candidate) after this BatchNorm found no maximum in 1% of the windows, and the compiled
    gradient was off by 4.2 (0.03 in the parameters of a conv-BatchNorm-pool net after three
    SGD steps); one reduction of (value, offset) pairs cannot disagree with itself."""
    x = np.random.default_rng(0).standard_normal((16, 4, 10, 10)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((16, 4, 5, 5)).astype(np.float32)
    fn = CANDIDATES[name][0]

    def ours(v):
        mean = v.mean((0, 2, 3), keepdims=True)
        var = ((v - mean) ** 2).mean((0, 2, 3), keepdims=True)
        h = (v - mean) * jax.lax.rsqrt(var + 1e-5) * 1.3 + 0.2
        return (fn(h, (2, 2), (2, 2), (0, 0), False) * w).sum()

    tx = torch.tensor(x, requires_grad=True)
    mean = tx.mean((0, 2, 3), keepdim=True)
    var = ((tx - mean) ** 2).mean((0, 2, 3), keepdim=True)
    h = (tx - mean) * torch.rsqrt(var + 1e-5) * 1.3 + 0.2
    (torch.nn.functional.max_pool2d(h, 2) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(np.asarray(jax.jit(jax.grad(ours))(x)), tx.grad.numpy(),
                               rtol=1e-4, atol=1e-5)


def test_forward_and_gradient_from_different_candidates():
    shape, kernel, stride, padding, ceil = CASES[0]
    x = integer_valued(shape)
    y_ref, dx_ref, g = torch_pool(x, kernel, stride, padding, ceil)
    f = pool_by_direction("reduce_window", "tiled_winner", kernel, stride, padding, ceil)
    np.testing.assert_array_equal(np.asarray(jax.jit(f)(x)), y_ref)
    y, pull = jax.vjp(f, x)
    np.testing.assert_array_equal(np.asarray(y), y_ref)
    np.testing.assert_allclose(np.asarray(pull(g)[0]), dx_ref)


def fake_timer(times, calls):
    def timer(fns, args):
        calls.extend(fns)
        return {(d, n): times.get((d, n), times.get(n, 9.0)) for d, n in fns}
    return timer


def test_tuner_times_each_direction_over_the_candidates_offering_it(private_cache):
    calls = []
    times = {"reduce_window": 0.5, "window_stack": 2.0, "tiled_winner": 1.5,
             ("input_grad", "window_stack"): 1.0, ("input_grad", "tiled_winner"): 4.0}
    graphnet.backends.autotune(True)
    shape, kernel, stride, padding, ceil = CASES[0]
    choice = pool_autotune.choose_max_pool(shape, kernel, stride, padding, ceil, np.float32,
                                           timer=fake_timer(times, calls))
    assert choice == {"forward": "reduce_window", "input_grad": "window_stack"}
    # reduce_window offers values only: it is never timed (or chosen) for the gradient
    assert ("input_grad", "reduce_window") not in calls and len(calls) == 5
    [row] = graphnet.backends.conv_choices()
    assert row["op"] == "max_pool2d" and row["source"] == "measured"
    assert row["kernel_size"] == [2, 2] and row["input"] == list(shape)
    saved = json.loads(private_cache.read_text())["choices"]
    assert list(saved.values())[0]["times_s"]["input_grad"] == {"window_stack": 1.0,
                                                                 "tiled_winner": 4.0}
    # cached: nothing timed again
    again = pool_autotune.choose_max_pool(shape, kernel, stride, padding, ceil, np.float32,
                                          timer=fake_timer(times, calls))
    assert again == choice and len(calls) == 5


def test_a_record_measured_over_other_candidates_is_measured_again(private_cache):
    """A candidate added since a shape was measured (the set offered changed) means the
    cached record no longer says which is fastest: it is measured again."""
    graphnet.backends.autotune(True)
    shape, kernel, stride, padding, ceil = CASES[0]
    key, _ = pool_autotune.pool_key(shape, kernel, stride, padding, ceil, np.float32)
    private_cache.write_text(json.dumps({"version": 1, "choices": {key: {
        "choice": {"forward": "reduce_window", "input_grad": "window_stack"},
        "times_s": {"forward": {"reduce_window": 1.0, "window_stack": 2.0},
                    "input_grad": {"window_stack": 1.0}}}}}))
    calls = []
    choice = pool_autotune.choose_max_pool(shape, kernel, stride, padding, ceil, np.float32,
                                           timer=fake_timer({"tiled_winner": 0.1}, calls))
    assert choice == {"forward": "tiled_winner", "input_grad": "tiled_winner"} and calls


def test_switch_off_gives_the_fixed_rule_and_records_it():
    graphnet.backends.autotune(False)
    assert fixed_rule(*CASES[0]) == {"forward": "reduce_window", "input_grad": "tiled_winner"}
    assert fixed_rule(*CASES[4]) == {"forward": "reduce_window", "input_grad": "window_stack"}
    # (not requiring grad: an eager pool that records a tape node over tiling windows keeps
    # its winners instead, test_eager_max_pool_keeps_each_windows_winner)
    x = graphnet.tensor(integer_valued((2, 3, 9, 8)))
    nn.functional.max_pool2d(x, 2)
    [row] = graphnet.backends.conv_choices()
    assert row["source"] == "rule" and row["choice"] == fixed_rule(*CASES[0])


@pytest.mark.parametrize("nd", [1, 3])
def test_conv_1d_and_3d_go_through_the_tuner_and_equal_torch(monkeypatch, nd):
    calls = []
    monkeypatch.setattr(conv_autotune, "measure",
                        fake_timer({"shifted_matmuls": 1.0, ("weight_grad", "xla"): 0.5},
                                   calls))
    graphnet.backends.autotune(True)
    layer = (nn.Conv1d if nd == 1 else nn.Conv3d)(2, 3, 3, padding=1)
    tlayer = (torch.nn.Conv1d if nd == 1 else torch.nn.Conv3d)(2, 3, 3, padding=1)
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.detach().numpy()))
        tlayer.bias.copy_(torch.tensor(layer.bias.detach().numpy()))
    x = np.random.default_rng(nd).standard_normal((2, 2) + (5,) * nd).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    tlayer(tx).square().sum().backward()
    gx = graphnet.tensor(x, requires_grad=True)
    layer(gx).square().sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(layer.weight.grad.numpy(), tlayer.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-4)
    [row] = graphnet.backends.conv_choices()
    assert row["op"] == f"conv{nd}d" and row["source"] == "measured" and calls
    assert row["choice"] == {"forward": "shifted_matmuls", "input_grad": "shifted_matmuls",
                             "weight_grad": "xla"}


def test_option_sets_follow_the_rule_and_the_switch(monkeypatch):
    monkeypatch.delenv("GRAPHNET_XLA_CPU_OPTIONS", raising=False)
    assert _xla.current(has_conv=False) == _xla.current(has_conv=True) == "checked"
    # eager kernels are not read: matmuls one by one; a program reads its compiled form
    assert _xla.compiler_options(True) == _xla.compiler_options(False) == {
        "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}
    assert _xla.compiler_options(False, program=True)[
        "xla_cpu_experimental_ynn_fusion_type"] == \
        "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
    graphnet.backends.cpu_library_fusion(True)
    assert _xla.current(True) == "checked"
    graphnet.backends.cpu_library_fusion(False)
    assert _xla.current(True) == _xla.current(False) == "no_library_fusion"
    graphnet.backends.cpu_library_fusion(None)
    monkeypatch.setenv("GRAPHNET_XLA_CPU_OPTIONS", "xla_default")
    assert _xla.current(True) == "xla_default"
    monkeypatch.setenv("GRAPHNET_XLA_CPU_OPTIONS", "fast")
    with pytest.raises(ValueError, match="fast"):
        _xla.current(True)
    with pytest.raises(ValueError, match="no_library_fusion"):
        graphnet.backends.cpu_library_fusion("nope")
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    monkeypatch.delenv("GRAPHNET_XLA_CPU_OPTIONS")
    assert _xla.compiler_options(True) is None          # CPU options never reach a GPU


def test_the_options_reach_the_compiled_program():
    """With library fusion off, XLA's optimized HLO of a program has no YNNPACK fusion; with
    graphnet's set, a matmul program has one."""
    def matmul(a):
        return jax.numpy.tanh(a @ a).sum()
    x = np.ones((64, 64), np.float32)
    texts = {}
    for name in ("no_library_fusion", "library_dots"):
        graphnet.backends.cpu_library_fusion(name)
        texts[name] = _xla.jit(matmul).lower(x).compile().as_text()
    graphnet.backends.cpu_library_fusion(None)
    assert "__ynn" not in texts["no_library_fusion"]
    assert "__ynn" in texts["library_dots"]


def test_explain_and_plan_dump_show_each_lowering():
    from graphnet.runtime.artifact_dumps import format_plan_dump, plan_dump

    graphnet.backends.autotune(False)
    graphnet.manual_seed(0)
    conv = nn.Conv2d(1, 4, 3)

    def step(x):
        return nn.functional.max_pool2d(conv(x).relu(), 2).sum()
    fast = graphnet.compile(step)
    x = graphnet.randn(2, 1, 10, 10)
    fast(x)
    graph = fast.explain()["per_graph"][-1]
    assert graph["xla_options"] == "checked" and graph["xla_risky_fusions"] == []
    ops = {row["op"]: row for row in graph["lowerings"]}
    assert set(ops) == {"conv2d", "max_pool2d"}
    assert ops["conv2d"]["input"] == [2, 1, 10, 10] and ops["conv2d"]["source"] == "rule"
    assert ops["max_pool2d"]["choice"] == {"forward": "reduce_window",
                                           "input_grad": "tiled_winner"}
    text = format_plan_dump(plan_dump(fast, x))
    assert "XLA CPU option set: checked" in text
    assert "= max_pool2d x[2,4,8,8]: forward=reduce_window input_grad=tiled_winner [rule]" in text
    assert "= conv2d x[2,1,10,10] w[4,1,3,3]" in text


@pytest.mark.parametrize("case", range(len(CASES)))
def test_eager_max_pool_keeps_each_windows_winner(case):
    """An eager pool that records a tape node over tiling windows keeps each window's first
    maximum from its forward (`OpDef.eager_residuals`) and its backward reads it instead of
    recomputing the pool; the others recompute. Values and gradients equal torch's either
    way, ties and NaN included; create_graph differentiates the recomputing VJP."""
    from graphnet import _autograd
    from graphnet._ops.pool_candidates import tiles

    shape, kernel, stride, padding, ceil_mode = CASES[case]
    x = integer_valued(shape)
    x.flat[5] = np.nan
    want_y, want_grad, g = torch_pool(x, kernel, stride, padding, ceil_mode)
    pool = getattr(nn.functional, f"max_pool{len(kernel)}d")
    gx = graphnet.tensor(x, requires_grad=True)
    y = pool(gx, kernel, stride, padding, ceil_mode=ceil_mode)
    kept = isinstance(y.grad_fn, _autograd.ResidualNode)
    assert kept == tiles(shape, kernel, stride, padding, ceil_mode)
    y.backward(graphnet.tensor(g))
    np.testing.assert_array_equal(y.detach().numpy(), want_y)
    np.testing.assert_array_equal(gx.grad.numpy(), want_grad)
    # a gradient of the gradient (create_graph): torch's pool gradient is linear in the
    # cotangent, so d(sum(grad * w))/d(cotangent) is w at each window's winner
    ct = graphnet.tensor(g, requires_grad=True)
    gx2 = graphnet.tensor(x, requires_grad=True)
    (grad,) = graphnet.autograd.grad(pool(gx2, kernel, stride, padding, ceil_mode=ceil_mode),
                                     gx2, ct, create_graph=True)
    w = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    (grad * graphnet.tensor(w)).sum().backward()
    tx, tct = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    torch_pool_fn = getattr(torch.nn.functional, f"max_pool{len(kernel)}d")
    (tgrad,) = torch.autograd.grad(torch_pool_fn(tx, kernel, stride, padding,
                                                 ceil_mode=ceil_mode), tx, tct,
                                   create_graph=True)
    (tgrad * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ct.grad.numpy(), tct.grad.numpy(), rtol=1e-6)


def test_a_kept_winner_survives_retain_graph_and_is_freed_without_it():
    x = graphnet.tensor(integer_valued((2, 3, 8, 8)), requires_grad=True)
    y = nn.functional.max_pool2d(x, 2).sum()
    y.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * once)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
