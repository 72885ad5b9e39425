"""runtime/compare/data_parallel.py: the quick preset's schema, its communication volume and
that splitting the batch over 2 fake CPU devices trains the same parameters as 1 device."""

from __future__ import annotations

import json

import pytest

from graphnet.runtime.compare._axis import Context
from graphnet.runtime.compare.data_parallel import measure, with_device_count

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)


@pytest.fixture(scope="module")
def quick() -> dict:
    labels = []
    result = measure(Context(preset="quick", torch=False, progress=labels.append))
    result["_labels"] = labels
    return result


def test_schema(quick):
    assert quick.pop("_labels") == ["data parallel: 1 device", "data parallel: 2 devices"]
    json.dumps(quick)   # the study writes it as JSON
    assert set(quick) == {"settings", "devices", "step_s", "bytes_per_step", "collectives",
                          "max_abs_diff_vs_1"}
    assert quick["devices"] == [1, 2]
    for key in ("step_s", "bytes_per_step", "collectives", "max_abs_diff_vs_1"):
        assert len(quick[key]) == 2, key
    assert all(t > 0 for t in quick["step_s"])
    settings = quick["settings"]
    assert settings["platform"] == "cpu" and "only correctness and communication volume" \
        in settings["note"]
    assert settings["global_batch"] % 8 == 0


def test_bytes_grow_from_none_to_the_gradients(quick):
    one, two = quick["bytes_per_step"]
    assert one == 0 and quick["collectives"][0] == {}
    # every gradient of the 784-256-256-10 MLP once, plus cross-entropy's sum and count
    parameters = 256 * 784 + 256 + 256 * 256 + 256 + 10 * 256 + 10
    assert two == parameters * 4 + 8
    assert quick["collectives"][1] == {"all-reduce": {"count": 2, "bytes": two}}


def test_parameters_equal_the_one_device_run(quick):
    assert quick["max_abs_diff_vs_1"][0] == 0.0
    assert quick["max_abs_diff_vs_1"][1] <= 1e-5


def test_device_count_flag_replaces_only_its_own():
    flags = "--xla_cpu_enable_fast_math=false --xla_force_host_platform_device_count=2"
    assert with_device_count(flags, 8) == ("--xla_cpu_enable_fast_math=false "
                                           "--xla_force_host_platform_device_count=8")
    assert with_device_count("", 1) == "--xla_force_host_platform_device_count=1"
