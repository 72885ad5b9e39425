"""The compile-cost axis of `graphnet compare` (runtime/compare/compile_cost.py): a quick run on
the MLP follows the schema and its numbers add up; the cache probe, run twice on one new
cache directory, finds the second process's first call cheaper. Timings are compared only
where the gap is an order of magnitude (compiling against loading a compiled program)."""

import json

import pytest

from graphnet.runtime.compare import breakeven, compile_cost
from graphnet.runtime.compare._axis import Context

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)

PHASES = {"trace", "passes", "jax_lowering", "xla_compile"}


@pytest.fixture(scope="module")
def axis():
    labels = []
    ctx = Context(preset="quick", workloads=["mlp"], torch=False, progress=labels.append)
    return compile_cost.measure(ctx), labels


def test_quick_run_follows_the_schema(axis):
    result, labels = axis
    mlp = result["workloads"]["mlp"]
    assert set(mlp) >= {"phases_s", "first_call_s", "step_s", "break_even", "cache"}
    assert set(mlp["first_call_s"]) == set(mlp["step_s"]) == {"static", "dynamic"}
    assert set(mlp["phases_s"]) == PHASES
    curve = mlp["break_even"]
    assert set(curve) == {"steps", "curve_steps", "static_total_s", "dynamic_total_s"}
    assert curve["steps"] is None or isinstance(curve["steps"], int)
    assert len(curve["curve_steps"]) == len(curve["static_total_s"]) == len(
        curve["dynamic_total_s"])
    assert curve["curve_steps"] == breakeven.curve_steps(
        curve["steps"], 3, result["settings"]["curve_steps"])   # static's 3 warm-up calls
    assert mlp["cache"] is None                      # no cache study in a quick run
    assert labels == ["compile: mlp first calls", "compile: mlp steady steps"]
    json.dumps(result, allow_nan=False)              # results.json takes it as it is


def test_a_training_step_warms_up_over_two_static_graphs(axis):
    mlp = axis[0]["workloads"]["mlp"]
    # the first call creates the momentum buffers, the second compiles the steady step,
    # the third builds nothing (and ends the warm-up)
    assert mlp["graphs"] == 2
    assert len(mlp["warmup_s"]["static"]) == 3 and len(mlp["warmup_s"]["dynamic"]) == 2
    assert all(w[0] == mlp["first_call_s"][v] for v, w in mlp["warmup_s"].items())


def test_phases_fit_inside_the_calls_that_built_the_graphs(axis):
    mlp = axis[0]["workloads"]["mlp"]
    phases = mlp["phases_s"]
    assert all(seconds >= 0 for seconds in phases.values())
    assert phases["trace"] > 0 and phases["jax_lowering"] > 0
    # NOTE: summed over both graphs, so against both compiling calls, not the first alone.
    # graphnet's own phases are timed inside those calls. XLA's compile time comes from
    # JAX's process-wide monitoring events, which on a loaded machine (xdist workers, the
    # persistent cache off for this axis) were seen to add up past the calls' wall time.
    assert phases["trace"] + phases["passes"] <= sum(mlp["warmup_s"]["static"])
    assert phases["xla_compile"] > 0


def test_break_even_and_curves_come_from_the_measured_numbers(axis):
    mlp = axis[0]["workloads"]["mlp"]
    args = (mlp["warmup_s"]["static"], mlp["step_s"]["static"],
            mlp["warmup_s"]["dynamic"], mlp["step_s"]["dynamic"])
    curve = mlp["break_even"]
    assert curve["steps"] == breakeven.break_even(*args)
    assert curve["static_total_s"] == breakeven.curves(*args, curve["curve_steps"])[
        "static_total_s"]
    if curve["steps"] is not None:
        i = curve["curve_steps"].index(curve["steps"])
        assert curve["static_total_s"][i] < curve["dynamic_total_s"][i]


@pytest.mark.slow   # two fresh processes; test_compile_cache.py checks the same cache by default
def test_warm_persistent_cache_makes_the_first_static_call_cheaper():
    cache = compile_cost.cache_study("mlp")
    cold, warm = cache["cold_first_call_s"], cache["warm_first_call_s"]
    assert set(cold) == set(warm) == {"static", "dynamic", "jax"}   # the MLP has a jax twin
    assert warm["static"] < cold["static"] and warm["jax"] < cold["jax"]
    # the warm process took its programs from the cache: XLA hardly compiled anything
    assert cache["warm_phases_s"]["xla_compile"] < cache["cold_phases_s"]["xla_compile"] / 4
    assert cache["cache_files"] > 0


def test_cache_study_runs_on_mlp_and_lenet_by_default_and_never_in_quick():
    pick = compile_cost.cache_workloads
    assert pick(Context(preset="quick", workloads=["mlp", "lenet"])) == []
    assert pick(Context(preset="default", workloads=["tiny", "mlp", "lenet"])) == ["mlp", "lenet"]
    assert pick(Context(preset="default", workloads=["tiny"])) == []
    assert pick(Context(preset="full", workloads=["tiny", "mlp"])) == ["tiny", "mlp"]


def test_a_failing_probe_names_the_command_to_rerun(tmp_path):
    with pytest.raises(RuntimeError, match="_cache_probe no-such-workload"):
        compile_cost.run_probe("no-such-workload", str(tmp_path))
