"""Training on a device mesh (issue 12): `graphnet.compile(step, mesh=...)` with replicated
(DDP) and fsdp state, `nn.parallel.DistributedDataParallel` eagerly and compiled, BatchNorm's
global statistics, the batch-divisibility error, dropout per replica, and a checkpoint
saved from 8 devices resumed on 2. Everything runs in one fresh interpreter with 8 fake CPU
devices (tests/sharding_check.py): the flag must be set before JAX starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from xla_env import with_devices

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-5


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    env = dict(os.environ, XLA_FLAGS=with_devices(8), JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, os.path.join(HERE, "sharding_check.py"),
                           str(tmp_path_factory.mktemp("sharded"))], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mesh_training_equals_one_device(measured, optimizer):
    run = measured["mlp"][optimizer]
    for variant in ("replicated", "fsdp", "fsdp_vs_replicated", "ddp_eager", "ddp_static"):
        assert run[variant] < TOL, (variant, run[variant])
    assert run["replicated_specs"] == ["P()"] * 4
    # fsdp splits what divides by 8 (weights, the 32-wide bias) and replicates the 3-wide bias
    assert run["fsdp_specs"] == ["P('data',)", "P('data',)", "P(None, 'data')", "P()"]


def test_explain_shows_mesh_placements_and_collectives(measured):
    rep, fsdp = measured["mlp"]["mesh_replicated"], measured["mlp"]["mesh_fsdp"]
    assert rep["axes"] == {"data": 8, "model": 1} and rep["devices"] == 8
    assert rep["inputs"] == {"x": "P('data',)", "y": "P('data',)"}
    assert set(rep["state"].values()) == {"P()"}
    assert fsdp["state"]["param0.momentum_buffer"] == "P('data',)"
    # the gradients' all-reduce: every gradient's bytes (8*32 + 32 + 32*3 + 3 floats)
    grad_bytes = 4 * (8 * 32 + 32 + 32 * 3 + 3)
    assert rep["collectives"]["all-reduce"]["count"] >= 1
    assert rep["collectives"]["all-reduce"]["bytes"] >= grad_bytes
    assert "all-gather" not in rep["collectives"]
    assert fsdp["collectives"]["all-gather"]["count"] >= 1   # sharded params gathered to use


def test_batchnorm_statistics_are_global(measured):
    """SPMD computes BatchNorm over the global batch (PyTorch's SyncBatchNorm): parameters
    and running statistics equal one device's on the whole batch."""
    for key, value in measured["lenet_batchnorm"].items():
        assert value < TOL, (key, value)


def test_lenet_on_a_mesh(measured):
    assert measured["lenet"]["replicated"] < TOL
    assert measured["lenet"]["ddp_eager"] < TOL


def test_transformer_on_a_mesh(measured):
    assert measured["transformer"]["replicated"] < TOL
    assert measured["transformer"]["fsdp"] < TOL


def test_batch_that_does_not_divide_names_both_numbers(measured):
    for message in measured["errors"].values():
        assert "a batch of 10" in message and "8 'data' devices" in message
        assert "multiple of 8" in message


def test_dropout_differs_per_replica_and_repeats_under_seed(measured):
    drop = measured["dropout"]
    assert drop["repeatable"]
    assert drop["distinct_replica_masks"] == 8
    assert 0.4 < drop["kept_fraction"] < 0.6


def test_checkpoint_from_8_devices_resumes_on_2(measured):
    ckpt = measured["checkpoint"]
    assert ckpt["loaded_equal"] == 0.0
    assert ckpt["continued"] < TOL
    assert ckpt["devices_after"] == 2


def test_dump_shows_the_mesh_layouts_and_collectives():
    """`graphnet dump --devices N` simulates N CPU devices (JAX has not started yet in the
    CLI) and prints the layouts and the collectives read from the compiled program."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")  # the CLI adds the device count
    done = subprocess.run([sys.executable, "-m", "graphnet.runtime.cli", "dump", "mlp",
                           "--train", "--format", "plan", "--devices", "4", "--sharding",
                           "fsdp"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "// ---- mesh: {'data': 4} on 4 devices, fsdp ----" in out
    assert "input input: P('data',)" in out
    assert "state 0.weight: P('data',)" in out and "state 4.bias: P()" in out
    assert "all-gather x" in out and "all-reduce x" in out
