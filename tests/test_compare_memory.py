"""The memory axis of `graphnet compare` (runtime/compare/memory.py): the schema's keys
(docs/compare.md, `axes.memory`) with numbers that agree with each other."""

from __future__ import annotations

import json

import pytest

from graphnet.runtime.compare import memory
from graphnet.runtime.compare._axis import Context
from graphnet.runtime.workloads import WORKLOADS

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)


@pytest.fixture(scope="module")
def mlp_memory() -> dict:
    labels = []
    result = memory.measure(Context(preset="quick", workloads=["mlp"], torch=False,
                                    progress=labels.append))
    assert labels == ["memory: mlp"]
    return result


def test_the_result_follows_the_schema(mlp_memory):
    json.dumps(mlp_memory)    # JSON-serialisable, as results.json needs
    entry = mlp_memory["workloads"]["mlp"]
    assert set(entry) == {"static", "dynamic", "device", "ratio_dynamic_over_static"}
    static, dynamic = entry["static"], entry["dynamic"]
    assert set(static) == {"argument_bytes", "output_bytes", "temp_bytes", "alias_bytes",
                           "peak_bytes", "plan_estimate_bytes"}
    assert set(dynamic) == {"peak_bytes", "baseline_bytes"}
    for key in ("argument_bytes", "output_bytes", "peak_bytes", "plan_estimate_bytes"):
        assert isinstance(static[key], int) and static[key] > 0, key
    for key in ("temp_bytes", "alias_bytes"):
        assert isinstance(static[key], int) and static[key] >= 0, key
    for key in ("peak_bytes", "baseline_bytes"):
        assert isinstance(dynamic[key], int) and dynamic[key] > 0, key
    assert entry["device"] is None or set(entry["device"]) == {"static_peak_bytes",
                                                               "dynamic_peak_bytes"}


def test_the_static_numbers_add_up(mlp_memory):
    static = mlp_memory["workloads"]["mlp"]["static"]
    assert static["peak_bytes"] == (static["argument_bytes"] + static["output_bytes"]
                                    + static["temp_bytes"] - static["alias_bytes"])
    assert static["peak_bytes"] >= static["argument_bytes"]
    # MLP 784-256-256-10: the step's arguments hold the parameters and their momentum buffers
    # (2 x 269,322 float32) and the batch (128 x 784 float32, 128 int64 labels), plus 2 scalars
    # (lr, momentum; weight decay and dampening are 0, constants of the program)
    parameters = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    batch = 128 * 784 * 4 + 128 * 8
    assert static["argument_bytes"] == 2 * 4 * parameters + batch + 2 * 8
    # the momentum buffers are donated: their new values overwrite the old. The parameters,
    # read by the forward and the backward, are not (XLA would copy them first)
    assert static["alias_bytes"] == 4 * parameters


def test_dynamic_and_the_ratio(mlp_memory):
    entry = mlp_memory["workloads"]["mlp"]
    static, dynamic = entry["static"], entry["dynamic"]
    parameters = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    # The eager update writes the large weights and their momentum in place (donated), and
    # zero_grad frees the old gradients before backward makes new ones: what the dynamic step
    # adds at its peak is its activations, at least one 128 x 256 hidden layer, and less than
    # a second copy of the parameters. Its baseline holds at least the parameters, momentum
    # buffers and batch.
    assert 128 * 256 * 4 <= dynamic["peak_bytes"] < 4 * parameters
    assert dynamic["baseline_bytes"] >= static["argument_bytes"]
    ratio = (dynamic["peak_bytes"] + static["argument_bytes"]) / static["peak_bytes"]
    assert entry["ratio_dynamic_over_static"] == pytest.approx(ratio)


def test_the_plan_estimate_is_what_plan_mode_plans():
    workload = WORKLOADS["mlp"](torch=False, sizes=(32, 16, 10), batch=8)
    estimates = {}
    for mode in ("static", "plan"):
        for _ in range(memory.STATIC_WARMUP_CALLS):
            workload.variants[mode]()
        estimates[mode] = workload.compiled[mode].compiled.artifacts[-1].plan.est_peak_bytes
    assert estimates["static"] == estimates["plan"] > 0
