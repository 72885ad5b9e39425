"""Run by tests/test_sharding.py in a fresh interpreter with 8 fake CPU devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=8` must be set before JAX starts).
Prints one JSON object: each check's measured numbers, for the test to assert on."""

from __future__ import annotations

import copy
import json
import os
import sys

import jax
import numpy as np

import graphnet as torch
import graphnet.distributed as dist
import graphnet.nn.functional as F
from graphnet import nn

RNG = np.random.default_rng(0)


def data(batch, *shape, classes=3):
    x = torch.from_numpy(RNG.standard_normal((batch, *shape)).astype(np.float32))
    return x, torch.from_numpy(RNG.integers(0, classes, batch))


def params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def diff(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def train(model, make_opt, x, y, steps, compile_kw=None, wrap=None):
    """Train a deep copy of `model`; compile_kw: None = eager, {} = single-device compile,
    {"mesh": ...} = SPMD; wrap: a DDP-style wrapper applied to the copy."""
    model = copy.deepcopy(model)
    net = wrap(model) if wrap else model
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss
    run = step if compile_kw is None else torch.compile(step, **compile_kw)
    for _ in range(steps):
        run(x, y)
    return model, run


def sgd(p):
    return torch.optim.SGD(p, lr=0.1, momentum=0.9)


def adam(p):
    return torch.optim.Adam(p, lr=0.01)


def check_mlp():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    x, y = data(32, 8)
    out = {}
    for name, make in (("sgd", sgd), ("adam", adam)):
        single = params(train(model, make, x, y, 4, {})[0])
        rep, run = train(model, make, x, y, 4, {"mesh": dist.mesh()})
        fsdp, frun = train(model, make, x, y, 4, {"mesh": dist.mesh(), "sharding": "fsdp"})
        ddp_eager = train(model, make, x, y, 4, None, nn.parallel.DistributedDataParallel)[0]
        ddp_static = train(model, make, x, y, 4, {}, nn.parallel.DistributedDataParallel)[0]
        out[name] = {"replicated": diff(params(rep), single),
                     "fsdp": diff(params(fsdp), single),
                     "fsdp_vs_replicated": diff(params(fsdp), params(rep)),
                     "ddp_eager": diff(params(ddp_eager), single),
                     "ddp_static": diff(params(ddp_static), single),
                     "replicated_specs": [str(p._value.sharding.spec) for p in rep.parameters()],
                     "fsdp_specs": [str(p._value.sharding.spec) for p in fsdp.parameters()]}
        if name == "sgd":
            out["mesh_replicated"] = run.explain()["mesh"]
            out["mesh_fsdp"] = frun.explain()["mesh"]
    return out


def check_lenet_batchnorm():
    """BatchNorm under SPMD: the statistics are over the global batch (SyncBatchNorm)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 5 * 5, 3))
    x, y = data(16, 1, 12, 12)
    single = train(model, sgd, x, y, 3, {})[0]
    out = {}
    for name, kw, wrap in (("ddp_eager", None, nn.parallel.DistributedDataParallel),
                           ("ddp_static", {}, nn.parallel.DistributedDataParallel),
                           ("mesh", {"mesh": dist.mesh()}, None)):
        trained = train(model, sgd, x, y, 3, kw, wrap)[0]
        out[name] = diff(params(trained), params(single))
        out[name + "_running_mean"] = float(np.abs(
            trained[1].running_mean.numpy() - single[1].running_mean.numpy()).max())
    return out


def check_lenet():
    """graphnet.models.LeNet, the benchmark's model, on 8 devices."""
    from graphnet.models import LeNet

    torch.manual_seed(0)
    model = LeNet(classes=10, in_channels=1, image_size=28)
    x, y = data(16, 1, 28, 28, classes=10)
    single = params(train(model, sgd, x, y, 3, {})[0])
    return {"replicated": diff(params(train(model, sgd, x, y, 3,
                                            {"mesh": dist.mesh()})[0]), single),
            "ddp_eager": diff(params(train(model, sgd, x, y, 3, None,
                                           nn.parallel.DistributedDataParallel)[0]), single)}


def check_transformer():
    torch.manual_seed(0)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 16)
            self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
            self.head = nn.Linear(16, 3)

        def forward(self, tokens):
            return self.head(self.layer(self.embed(tokens)).mean(1))

    model = Encoder()
    tokens = torch.from_numpy(RNG.integers(0, 20, (16, 6)))
    y = torch.from_numpy(RNG.integers(0, 3, 16))
    single = params(train(model, sgd, tokens, y, 3, {})[0])
    return {"replicated": diff(params(train(model, sgd, tokens, y, 3,
                                            {"mesh": dist.mesh()})[0]), single),
            "fsdp": diff(params(train(model, sgd, tokens, y, 3,
                                      {"mesh": dist.mesh(), "sharding": "fsdp"})[0]), single)}


def check_errors():
    model = nn.Linear(4, 2)
    out = {}
    try:
        torch.compile(model, mesh=dist.mesh())(torch.randn(10, 4))
    except ValueError as err:
        out["compile"] = str(err)
    try:
        nn.parallel.DistributedDataParallel(model)(torch.randn(10, 4))
    except ValueError as err:
        out["ddp"] = str(err)
    return out


def check_dropout():
    drop = nn.Dropout(0.5)
    x = torch.ones(16, 64)
    run = torch.compile(lambda x: drop(x), mesh=dist.mesh())
    torch.manual_seed(3)
    first = run(x).numpy()
    torch.manual_seed(3)
    again = run(x).numpy()
    rows = first.reshape(8, 2, 64)          # the 8 devices' shares of the batch
    return {"repeatable": bool((first == again).all()),
            "distinct_replica_masks": len({r.tobytes() for r in rows}),
            "kept_fraction": float((first != 0).mean())}


def check_checkpoint(tmp):
    """Train on 8 devices (fsdp), save, load on a 2-device mesh, train on: equal to one
    device doing all the steps."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    x, y = data(16, 8)
    reference = train(model, sgd, x, y, 5, {})[0]
    trained, _ = train(model, sgd, x, y, 3, {"mesh": dist.mesh(), "sharding": "fsdp"})
    path = os.path.join(tmp, "sharded.safetensors")
    torch.save(trained.state_dict(), path)
    resumed = copy.deepcopy(model)
    resumed.load_state_dict(torch.load(path))
    two = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
    continued = train(resumed, sgd, x, y, 2, {"mesh": two})[0]
    # momentum is not in the state_dict: compare against a reference restarted the same way
    restart = copy.deepcopy(model)
    restart.load_state_dict(trained.state_dict())
    single = train(restart, sgd, x, y, 2, {})[0]
    return {"loaded_equal": diff(params(resumed), params(trained)),
            "continued": diff(params(continued), params(single)),
            "devices_after": len(continued[0].weight._value.sharding.device_set),
            "reference_moved": diff(params(reference), params(model)) > 0}


if __name__ == "__main__":
    assert jax.device_count() == 8, jax.device_count()
    checks = {"mlp": check_mlp, "lenet": check_lenet, "lenet_batchnorm": check_lenet_batchnorm,
              "transformer": check_transformer, "errors": check_errors,
              "dropout": check_dropout,
              "checkpoint": lambda: check_checkpoint(sys.argv[1])}
    print(json.dumps({name: fn() for name, fn in checks.items()}, default=str))
