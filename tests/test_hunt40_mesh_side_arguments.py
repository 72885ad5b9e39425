"""On a device mesh only the batch arguments are split: a causal mask of another first size,
or a 0-d temperature, passed beside the batch to DDP or to `compile(mesh=)`, is replicated
(it was split too, and refused as "a batch of 6" beside a batch of 8). Values match one
device. One fresh interpreter with 4 fake CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from xla_env import with_devices

SCRIPT = r'''
import json
import numpy as np
import graphnet as gn
import graphnet.distributed as dist

gn.manual_seed(0)
layer = gn.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
x = gn.tensor(np.random.RandomState(0).randn(8, 6, 16).astype(np.float32))
mask = gn.nn.Transformer.generate_square_subsequent_mask(6)
want = layer(x, src_mask=mask).detach().numpy()
got = gn.nn.parallel.DistributedDataParallel(layer)(x, src_mask=mask).detach().numpy()
out = {"ddp_mask": float(np.abs(got - want).max())}

def scaled(x, t):
    return (x / t).softmax(-1)
want = scaled(x, gn.tensor(2.0)).numpy()
got = gn.compile(scaled, mesh=dist.mesh())(x, gn.tensor(2.0)).numpy()
out["mesh_temperature"] = float(np.abs(got - want).max())
try:
    gn.compile(scaled, mesh=dist.mesh())(x[:6], gn.tensor(2.0))
    out["short_batch"] = "ran"
except ValueError as err:
    out["short_batch"] = str(err)
print(json.dumps(out))
'''


def test_side_arguments_are_replicated(tmp_path):
    path = tmp_path / "mesh_side.py"
    path.write_text(SCRIPT)
    env = {"XLA_FLAGS": with_devices(4), "JAX_PLATFORMS": "cpu", "GRAPHNET_AUTOTUNE": "0"}
    done = subprocess.run([sys.executable, str(path)], env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ddp_mask"] < 1e-5
    assert out["mesh_temperature"] < 1e-6
    assert "a batch of 6 does not divide over the mesh's 4" in out["short_batch"]
