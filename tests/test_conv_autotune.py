"""Conv lowering candidates (graphnet/_ops/conv_candidates.py) and the autotuner that picks
one per shape (graphnet/_ops/conv_autotune.py). Every candidate must equal PyTorch's conv2d
in values and in both gradients; the tuner is tested with an injected fake timer, so nothing
here depends on real timings."""

import json

import jax
import numpy as np
import pytest
from parity import torch

import graphnet
import graphnet.backends
from graphnet import nn
from graphnet._ops import conv as conv_ops
from graphnet._ops import conv_autotune
from graphnet._ops.conv_candidates import (CANDIDATES, candidates_for, conv_by_direction,
                                            conv_native, conv_shifted_matmuls)

rng = np.random.default_rng(0)

# (x shape, weight shape, stride, padding (lo, hi) pairs, dilation, groups)
CASES = [
    ((2, 3, 9, 9), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), (2, 1), ((1, 1), (0, 0)), (1, 2), 2),    # strided, grouped
    ((1, 6, 7, 7), (6, 1, 3, 3), (1, 1), ((2, 2), (2, 2)), (2, 2), 6),    # depthwise, dilated
    ((2, 3, 8, 10), (5, 3, 2, 3), (2, 3), ((0, 0), (1, 1)), (1, 1), 1),   # rectangular
    ((3, 1, 28, 28), (6, 1, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),  # LeNet conv1
]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test gets its own cache file and a clean in-memory table; the switch is
    restored to the environment's decision afterwards."""
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_CACHE", str(tmp_path / "autotune.json"))
    conv_autotune.clear_memory()
    yield tmp_path / "autotune.json"
    conv_autotune.set_enabled(None)
    conv_autotune.clear_memory()


# NOTE: an alias, so docs/coverage.md keeps naming tests/test_conv_pool.py for conv2d
torch_conv2d = torch.nn.functional.conv2d


def torch_conv(x, w, stride, padding, dilation, groups):
    """PyTorch's conv2d output and gradients (cotangent g) for x and w, as NumPy arrays."""
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    # PyTorch pads symmetrically: pad asymmetric cases by hand first
    (t, b), (left, right) = padding
    px = torch.nn.functional.pad(tx, (left, right, t, b))
    y = torch_conv2d(px, tw, stride=stride, dilation=dilation, groups=groups)
    g = torch.tensor(rng_for(y.shape))
    y.backward(g)
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), g.numpy()


def rng_for(shape):
    return np.random.default_rng(1).standard_normal(tuple(shape)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(CANDIDATES))
@pytest.mark.parametrize("case", range(len(CASES)))
def test_candidate_equals_torch_values_and_gradients(name, case):
    # every candidate on every case, even where the tuner would not offer it
    x_shape, w_shape, stride, padding, dilation, groups = CASES[case]
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    y_ref, dx_ref, dw_ref, g = torch_conv(x, w, stride, padding, dilation, groups)
    fn = CANDIDATES[name].fn
    y, pull = jax.vjp(lambda a, b: fn(a, b, stride, padding, dilation, groups), x, w)
    dx, dw = pull(g)
    for got, want, what in [(y, y_ref, "value"), (dx, dx_ref, "input grad"),
                            (dw, dw_ref, "weight grad")]:
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5 * scale,
                                   err_msg=f"{name} {what}, case {case}")


@pytest.mark.parametrize("case", [1, 2, 4])
def test_candidates_joined_by_direction_equal_torch(case):
    """The forward of one candidate with the input- and weight-gradient of two others: same
    values and gradients as PyTorch, and forward mode (jax.jvp) still works."""
    x_shape, w_shape, stride, padding, dilation, groups = CASES[case]
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    y_ref, dx_ref, dw_ref, g = torch_conv(x, w, stride, padding, dilation, groups)
    f = conv_by_direction("patches_matmul", "shifted_matmuls", "xla", stride, padding,
                          dilation, groups)
    y, pull = jax.vjp(f, x, w)
    dx, dw = pull(g)
    for got, want in [(y, y_ref), (dx, dx_ref), (dw, dw_ref)]:
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5 * scale)
    x_dot, w_dot = np.ones_like(x), np.ones_like(w)
    _, y_dot = jax.jvp(f, (x, w), (x_dot, w_dot))
    native = CANDIDATES["xla"].fn
    _, want_dot = jax.jvp(lambda a, b: native(a, b, stride, padding, dilation, groups),
                          (x, w), (x_dot, w_dot))
    np.testing.assert_allclose(np.asarray(y_dot), np.asarray(want_dot), rtol=1e-5, atol=1e-4)


def fake_timer(times, calls):
    """A timer that reads {(direction, name): seconds}, or {name: seconds} for every
    direction, and notes each label it was asked to time."""
    def timer(fns, args):
        calls.extend(fns)
        return {(d, n): times.get((d, n), times.get(n)) for d, n in fns}
    return timer


def test_tuner_picks_the_fastest_per_direction_and_persists_it(private_cache):
    calls = []
    times = {"a": 3.0, "b": 1.0, "c": 2.0, ("input_grad", "c"): 0.5,
             ("weight_grad", "a"): 0.1}
    timer = fake_timer(times, calls)
    candidates = dict(a=lambda x, w: x, b=lambda x, w: x, c=lambda x, w: x)
    made = []
    want = {"forward": "b", "input_grad": "c", "weight_grad": "a"}
    assert conv_autotune.tune("k1", candidates, lambda: made.append(1) or (), timer) == want
    assert len(calls) == 9 and made == [1]
    saved = json.loads(private_cache.read_text())["choices"]["k1"]
    assert saved["choice"] == want
    assert saved["times_s"]["input_grad"] == {"a": 3.0, "b": 1.0, "c": 0.5}
    # memory hit, then (after forgetting memory) a disk hit: nothing is timed again
    assert conv_autotune.tune("k1", candidates, lambda: (), timer) == want
    conv_autotune.clear_memory()
    assert conv_autotune.tune("k1", candidates, lambda: (), timer) == want
    assert len(calls) == 9
    [row] = conv_autotune.conv_choices()
    assert row["source"] == "cache" and row["choice"] == want
    # a cached choice naming a candidate no longer offered is measured again
    del candidates["c"]
    again = conv_autotune.tune("k1", candidates, lambda: (), timer)
    assert again == {"forward": "b", "input_grad": "b", "weight_grad": "a"}
    assert json.loads(private_cache.read_text())["choices"]["k1"]["choice"] == again


def test_tuner_keeps_the_preferred_candidate_unless_clearly_beaten():
    candidates = dict(a=lambda x, w: x, b=lambda x, w: x)
    close = fake_timer({"a": 1.04, "b": 1.0, ("weight_grad", "a"): 1.2}, [])
    assert conv_autotune.tune("close", candidates, lambda: (), close, prefer="a") == {
        "forward": "a", "input_grad": "a", "weight_grad": "b"}
    assert conv_autotune.tune("free", candidates, lambda: (), close)["forward"] == "b"


def test_spent_budget_leaves_new_shapes_to_the_rule(monkeypatch, private_cache):
    calls = []
    timer = fake_timer({"a": 1.0}, calls)
    candidates = {"a": lambda x, w: x}
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_BUDGET", "0")
    assert conv_autotune.tune("new", candidates, lambda: (), timer) is None
    assert calls == [] and not private_cache.exists()
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_BUDGET", "1e9")
    assert conv_autotune.tune("new", candidates, lambda: (), timer)["forward"] == "a"
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_BUDGET", "0")   # cached choices need no budget
    assert conv_autotune.tune("new", candidates, lambda: (), timer)["forward"] == "a"


def test_tuner_merges_with_entries_other_processes_wrote(private_cache):
    private_cache.write_text(json.dumps({"version": 1, "choices": {
        "other": {"choice": "x", "times_s": {}}}}))
    conv_autotune.tune("mine", {"a": lambda x, w: x}, lambda: (), fake_timer({"a": 1.0}, []))
    assert set(json.loads(private_cache.read_text())["choices"]) == {"other", "mine"}


def test_conv_kernel_uses_the_measured_choice_in_both_modes(monkeypatch):
    """A fake `measure` makes a different candidate fastest per direction; eager and compiled
    conv2d use them (conv_choices says so) and still equal PyTorch, gradients included."""
    times = {"xla": 3.0, "xla_channels_last": 4.0, "patches_matmul": 2.0,
             "shifted_matmuls": 1.0, ("input_grad", "xla"): 0.5,
             ("weight_grad", "patches_matmul"): 0.5}
    calls = []
    monkeypatch.setattr(conv_autotune, "measure", fake_timer(times, calls))
    graphnet.backends.autotune(True)
    # unusual shapes, so no other test's per-op jit cache already holds this conv
    x = rng.standard_normal((2, 3, 13, 11)).astype(np.float32)
    layer = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    tlayer = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1)
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.detach().numpy()))
        tlayer.bias.copy_(torch.tensor(layer.bias.detach().numpy()))
    tx = torch.tensor(x, requires_grad=True)
    tlayer(tx).square().sum().backward()

    def loss(a):
        return layer(a).square().sum()
    for run in (loss, graphnet.compile(loss)):
        layer.zero_grad()
        gx = graphnet.tensor(x, requires_grad=True)
        run(gx).backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(layer.weight.grad.numpy(), tlayer.weight.grad.numpy(),
                                   rtol=1e-5, atol=1e-4)
    assert len(calls) == 4 * 3   # measured once, for the first trace only
    [row] = [r for r in graphnet.backends.conv_choices() if r["input"] == [2, 3, 13, 11]]
    assert row["choice"] == {"forward": "shifted_matmuls", "input_grad": "xla",
                             "weight_grad": "patches_matmul"}
    assert row["source"] == "measured" and row["stride"] == [2, 2]
    assert row["times_s"]["forward"]["xla"] == 3.0


def test_switch_off_applies_the_fixed_rule(monkeypatch):
    def no_measuring(fns, args):
        raise AssertionError("autotuning is off: nothing may be timed")
    monkeypatch.setattr(conv_autotune, "measure", no_measuring)
    graphnet.backends.autotune(False)
    assert not graphnet.backends.autotune_enabled()
    x = rng.standard_normal((2, 3, 7, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    padding = ((1, 1), (1, 1))
    got = conv_ops.conv(x, w, stride=(1, 1), padding=padding, dilation=(1, 1), groups=1)
    [row] = graphnet.backends.conv_choices()
    rule = conv_ops._fixed_rule(x.shape, w.shape, (1, 1), padding, (1, 1), 1)
    assert row["source"] == "rule" and set(row["choice"].values()) == {rule}
    want = CANDIDATES[rule].fn(x, w, (1, 1), padding, (1, 1), 1)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_switch_follows_the_environment(monkeypatch):
    conv_autotune.set_enabled(None)
    monkeypatch.delenv("GRAPHNET_AUTOTUNE", raising=False)
    assert not conv_autotune.enabled()          # under pytest: off, so tests are deterministic
    monkeypatch.setenv("GRAPHNET_AUTOTUNE", "1")
    assert conv_autotune.enabled()
    monkeypatch.setenv("GRAPHNET_AUTOTUNE", "0")
    assert not conv_autotune.enabled()
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.delenv("GRAPHNET_AUTOTUNE")
    assert conv_autotune.enabled()              # a user's run: on
    graphnet.backends.autotune(False)           # the API wins over the environment
    assert not conv_autotune.enabled()


def test_real_measurement_returns_a_candidate():
    """One real (tiny) measurement: the timer runs inside a jit trace and returns a name."""
    graphnet.backends.autotune(True)

    @jax.jit
    def f(x, w):
        choice = conv_autotune.choose_conv(x.shape, w.shape, (1, 1), ((0, 0), (0, 0)), (1, 1),
                                           1, x.dtype)
        assert set(choice.values()) <= set(CANDIDATES)
        joined = conv_by_direction(choice["forward"], choice["input_grad"],
                                   choice["weight_grad"], (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
        return joined(x, w)
    y = f(np.ones((1, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32))
    np.testing.assert_allclose(np.asarray(y), np.full((1, 3, 3, 3), 18.0))


def test_which_candidates_are_offered():
    one = ((1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    assert set(candidates_for((8, 6, 12, 12), (16, 6, 5, 5), *one)) == set(CANDIDATES)
    # one input channel: shifted_matmuls is offered, stored (see conv_candidates.stored)
    assert "shifted_matmuls" in candidates_for((8, 1, 28, 28), (6, 1, 5, 5), *one)
    # patches too large for memory, and an empty output: XLA's forms only
    assert set(candidates_for((256, 64, 128, 128), (64, 64, 3, 3), *one)) == {
        "xla", "xla_channels_last", "shifted_matmuls"}
    assert set(candidates_for((2, 3, 2, 2), (4, 3, 3, 3), *one)) == {"xla", "xla_channels_last"}


def test_shifted_matmuls_is_stored_on_cpu():
    # The storage point is a conditional in the program: without it XLA copies the
    # elementwise sum into each consumer (the LeNet step ran 1.6x slower). Its values and
    # gradients are the identity's.
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 1, 3, 3)).astype(np.float32)
    args = ((1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    text = jax.jit(lambda a, b: conv_shifted_matmuls(a, b, *args)).lower(x, w).as_text()
    assert "stablehlo.case" in text or "stablehlo.if" in text
    y = conv_shifted_matmuls(x, w, *args)
    np.testing.assert_allclose(np.asarray(y), np.asarray(conv_native(x, w, *args)),
                               rtol=1e-5, atol=1e-5)
    nan = x.copy()
    nan[0, 0, 0, 0] = np.nan   # the predicate is false: the other identity branch
    y = np.asarray(conv_shifted_matmuls(nan, w, *args))
    assert np.isnan(y[0, :, 0, 0]).all() and np.isfinite(y[1]).all()


def test_type_inference_chooses_and_measures_nothing(monkeypatch):
    """The tracer infers a conv's or pool's output types without the tuner: no candidate is
    measured or recorded then (the chosen form can be costly to trace), and the types are
    the ones every candidate gives."""
    from graphnet.compiler.ir import Value
    from graphnet.compiler.shapes import _eval_types

    conv_autotune.set_enabled(True)
    measured = []
    monkeypatch.setattr(conv_autotune, "measure",
                        lambda fns, args: measured.append(fns) or {k: 1.0 for k in fns})
    x = Value("x", (3, 1, 28, 28), np.dtype("float32"))
    w = Value("w", (6, 1, 5, 5), np.dtype("float32"))
    conv_attrs = dict(stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1)
    assert _eval_types("conv", [x, w, None], conv_attrs) == (((3, 6, 24, 24),
                                                              np.dtype("float32")),)
    y = Value("y", (3, 6, 24, 24), np.dtype("float32"))
    pool_attrs = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1),
                      ceil_mode=False)
    assert _eval_types("max_pool", [y], pool_attrs) == (((3, 6, 12, 12), np.dtype("float32")),)
    assert measured == [] and graphnet.backends.conv_choices() == []
    # the kernel itself, run for its values, still asks the tuner
    conv_ops.conv(jax.numpy.ones((3, 1, 28, 28)), jax.numpy.ones((6, 1, 5, 5)), **conv_attrs)
    assert measured
