"""On a device mesh, a call's tensor arguments stay the caller's tensors: an in-place write
of the call reaches them (a compiled step, DDP eagerly; a copy lost it silently), a leaf
passed in stays a leaf for a backward inside the step, and a compiled forward's first call
places its weights before it runs, so an eager backward through it works. One fresh
interpreter with 4 fake CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from xla_env import with_devices

SCRIPT = r'''
import json, os
import numpy as np
import graphnet as gn
import graphnet.distributed as dist

out = {}
def step(x, seen):
    x.mul_(2)
    seen[:, 0] = 1.0
    return x.sum()
x, seen = gn.arange(24.0).reshape(8, 3), gn.zeros(8, 2)
gn.compile(step, mesh=dist.mesh())(x, seen)
out["compiled_writes"] = [x[1].tolist(), float(seen[:, 0].sum())]

class M(gn.nn.Module):
    def __init__(self):
        super().__init__()
        self.l = gn.nn.Linear(3, 3)
    def forward(self, x):
        x.sub_(x.mean(0))
        return self.l(x)
x = gn.arange(24.0).reshape(8, 3)
gn.nn.parallel.DistributedDataParallel(M())(x)
out["ddp_writes"] = x[0].tolist()

W0 = np.eye(4, dtype=np.float32) * 0.5
x0 = np.random.RandomState(0).randn(8, 4).astype(np.float32)
def train(x, W):
    loss = ((x @ W).tanh() ** 2).mean()
    loss.backward()
    return loss.detach()
grads = []
for fn in (train, gn.compile(train), gn.compile(train, mesh=dist.mesh())):
    W = gn.tensor(W0, requires_grad=True)
    fn(gn.tensor(x0), W)
    grads.append(W.grad.numpy())
out["leaf_grad"] = float(max(np.abs(g - grads[0]).max() for g in grads))

lin = gn.nn.Linear(6, 3)
f = gn.compile(lambda x: lin(x), mesh=dist.mesh())
gx = gn.tensor(x0[:, :3].repeat(2, 1), requires_grad=True)
f(gx).sum().backward()
want = lin.weight.detach().numpy().sum(0)
out["forward_first_call"] = float(np.abs(gx.grad.numpy() - want).max())
print(json.dumps(out))
'''


def test_arguments_on_a_mesh_stay_the_callers_tensors(tmp_path):
    path = tmp_path / "mesh_args.py"
    path.write_text(SCRIPT)
    env = {"XLA_FLAGS": with_devices(4), "JAX_PLATFORMS": "cpu", "GRAPHNET_AUTOTUNE": "0"}
    done = subprocess.run([sys.executable, str(path)], env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["compiled_writes"] == [[6.0, 8.0, 10.0], 8.0]
    assert out["ddp_writes"] == [-10.5, -10.5, -10.5]
    assert out["leaf_grad"] < 1e-6
    assert out["forward_first_call"] < 1e-6
