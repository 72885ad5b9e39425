"""runtime/first_run.py: the split of a hand-written jax.jit's first call (timings are for
the module's own runs, never asserted here; these check what it runs and reports)."""

import pytest

from graphnet.runtime import first_run
from graphnet.runtime.workloads import WORKLOADS


def test_the_probe_times_each_phase_of_the_twin_and_torchs_first_steps():
    seconds = first_run.probe("mlp")
    assert list(seconds)[:4] == list(first_run.PHASES)
    assert all(isinstance(s, float) and s > 0 for s in seconds.values())
    assert {"torch_first", "torch_second"} <= set(seconds)


def test_the_twin_exposes_the_jitted_step_it_runs():
    run = WORKLOADS["mlp"](torch=False).variants["jax"]
    params, state, buffers, x, y = run.arguments()
    loss, new_params, _, _ = run.jitted(params, state, buffers, x, y)
    same = WORKLOADS["mlp"](torch=False).variants["jax"]    # same seed and data
    assert float(loss) == pytest.approx(float(same()), rel=1e-6)
    assert set(new_params) == set(params)


def test_a_failing_probe_names_the_command_to_rerun():
    with pytest.raises(RuntimeError, match="first_run no-such-workload --probe"):
        first_run.study("no-such-workload")
