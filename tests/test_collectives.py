"""runtime/collectives.py: the collectives read from compiled programs on 4 fake CPU devices
(compiled in a subprocess: the device count is fixed when JAX starts, and this process's JAX
has started with one), and from hand-written HLO for the async forms CPU never emits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from xla_env import with_devices
from graphnet.runtime.collectives import (
    collectives, format_bytes, format_collectives, shape_bytes, summarize,
)

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)

PROGRAMS = r"""
import json
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
import graphnet
from graphnet.runtime.collectives import collectives
from graphnet.runtime.workloads import mlp_model, sgd_train_step

mesh = jax.make_mesh((4,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
batch, replicated = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())

def loss(p, x, y):
    h = jax.nn.relu(x @ p["w1"] + p["b1"])
    return jnp.mean((h @ p["w2"] + p["b2"] - y) ** 2)

def step(p, x, y):
    return jax.tree.map(lambda w, g: w - 0.1 * g, p, jax.grad(loss)(p, x, y))

p = {"w1": jnp.ones((32, 64)), "b1": jnp.zeros(64), "w2": jnp.ones((64, 12)),
     "b2": jnp.zeros(12)}
x, y = jnp.ones((16, 32)), jnp.ones((16, 12))
xs, ys = jax.device_put(x, batch), jax.device_put(y, batch)
found = {"param_bytes": sum(a.size * 4 for a in p.values())}
found["data_parallel"] = collectives(jax.jit(step).lower(p, xs, ys).compile())
found["single_device"] = collectives(jax.jit(step).lower(p, x, y).compile())
fsdp = {k: jax.device_put(a, batch) for k, a in p.items()}   # every dim 0 divides by 4
found["fsdp"] = collectives(jax.jit(step).lower(fsdp, xs, ys).compile())

def scanned(w, xs):
    body = lambda c, x: (c + jnp.sum(jax.grad(lambda w: jnp.sum(x @ w))(w)), None)
    return jax.lax.scan(body, 0.0, xs)[0]
stacked = jax.device_put(jnp.ones((3, 16, 32)), NamedSharding(mesh, P(None, "data")))
found["loop"] = collectives(jax.jit(scanned).lower(p["w1"], stacked).compile())

model = mlp_model((32, 64, 10), 0)
opt = graphnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
args = tuple(graphnet.Tensor._wrap(jax.device_put(graphnet.from_numpy(a)._value, batch))
             for a in (np.ones((16, 32), np.float32), np.arange(16) % 10))
train, _, handle = sgd_train_step(model, opt, *args, "static")
train(); train()
found["graphnet_param_bytes"] = sum(t.numel() * 4 for t in model.parameters())
found["graphnet"] = collectives(handle.compiled.artifacts[-1].lowered(args))
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def programs() -> dict:
    env = dict(os.environ, XLA_FLAGS=with_devices(4))
    done = subprocess.run([sys.executable, "-c", PROGRAMS], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_data_parallel_step_all_reduces_every_gradient_once(programs):
    found = programs["data_parallel"]
    assert {c["kind"] for c in found} == {"all-reduce"}
    # XLA combines the four gradients into one all-reduce of their total size
    assert len(found) == 1 and found[0]["buffers"] == 4
    assert sum(c["bytes"] for c in found) == programs["param_bytes"] == 11_568
    assert sorted(found[0]["shapes"]) == sorted(
        ["f32[64]{0}", "f32[12]{0}", "f32[64,32]{1,0}", "f32[12,64]{1,0}"])
    assert "axis_0" in found[0]["groups"] and not found[0]["in_loop"]


def test_graphnet_step_all_reduces_gradients_and_the_loss(programs):
    found = programs["graphnet"]
    assert summarize(found) == {"all-reduce": {"count": 2, "bytes":
                                               programs["graphnet_param_bytes"] + 8}}
    # the gradients (4 buffers) and cross-entropy's sum and count over the global batch
    assert sorted(c["buffers"] for c in found) == [2, 4]


def test_single_device_program_has_none(programs):
    assert programs["single_device"] == []
    assert format_collectives(programs["single_device"]) == "no collectives"


def test_sharded_parameters_are_all_gathered(programs):
    summary = summarize(programs["fsdp"])
    assert summary["all-gather"]["count"] >= 1
    assert summary["all-gather"]["bytes"] >= programs["param_bytes"] - 12 * 4  # b2 may stay
    assert "all-gather x" in format_collectives(programs["fsdp"])


def test_collective_inside_a_scan_is_marked(programs):
    found = programs["loop"]
    assert [c["in_loop"] for c in found] == [True]
    assert "inside loops, counted once" in format_collectives(found)


ASYNC_HLO = """\
HloModule async_pairs

%add (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %sum = f32[] add(%a, %b)
}

ENTRY %main (p0: f32[8], p1: f32[4,2], p2: bf16[6]) -> (f32[8], f32[16,2], bf16[6]) {
  %p0 = f32[8]{0} parameter(0)
  %p1 = f32[4,2]{1,0} parameter(1)
  %p2 = bf16[6]{0} parameter(2)
  %ar-start = f32[8]{0} all-reduce-start(%p0), replica_groups={{0,1,2,3}}, to_apply=%add
  %ar-done = f32[8]{0} all-reduce-done(%ar-start)
  %ag-start = (f32[4,2]{1,0}, f32[16,2]{1,0}) all-gather-start(%p1), replica_groups={{0,1,2,3}}, dimensions={0}
  %ag-done = f32[16,2]{1,0} all-gather-done(%ag-start)
  %cp = bf16[6]{0} collective-permute(%p2), source_target_pairs={{0,1},{1,0}}
  ROOT %out = (f32[8]{0}, f32[16,2]{1,0}, bf16[6]{0}) tuple(%ar-done, %ag-done, %cp)
}
"""


def test_async_pairs_count_once_with_the_done_result():
    found = collectives(ASYNC_HLO)
    assert [(c["kind"], c["name"], c["bytes"]) for c in found] == [
        ("all-reduce", "ar-start", 32), ("all-gather", "ag-start", 128),
        ("collective-permute", "cp", 12)]
    assert found[0]["groups"] == "{{0,1,2,3}}" and found[2]["groups"] == "{{0,1},{1,0}}"
    assert format_collectives(found).splitlines() == [
        "all-reduce x1, 32 B per step", "all-gather x1, 128 B per step",
        "collective-permute x1, 12 B per step"]


def test_shape_bytes():
    assert shape_bytes("f32[256,784]{1,0}") == 256 * 784 * 4
    assert shape_bytes("(f32[], bf16[3]{0}, pred[2])") == 4 + 6 + 2
    assert shape_bytes("s4[3]") == 2 and shape_bytes("f32[<=8]") == 32
    with pytest.raises(ValueError, match="unknown HLO element type 'q7'"):
        shape_bytes("q7[4]")
    assert format_bytes(1_077_296) == "1.0 MiB" and format_bytes(11_456) == "11.2 KiB"
