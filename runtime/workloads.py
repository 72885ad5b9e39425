"""Benchmark workloads: one model trained several ways on the same math.

Each workload builds `variants`: name -> step function returning something to block on.
`dynamic`, `static` and `plan` run the same graphnet training step (eager, compiled to one
jax.jit program, compiled to graphnet's own plan); `jax` is a hand-written `jax.jit` of
identical math (the ceiling graphnet's static mode is judged against); `torch` is PyTorch
eager (when installed), the reference for the dynamic mode. Twins start from the graphnet
model's weights and train on the same data (runtime/workloads_twins.py).

More workloads: workloads_zoo.py (lenet), workloads_resnet.py, workloads_more.py (tiny,
convnet, lstm-lm, transformer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import jax
import numpy as np


@dataclass
class Workload:
    name: str
    description: str
    variants: dict          # name -> zero-argument step callable returning an array-ish
    blockers: dict          # name -> callable returning arrays to block on after a run
    ratios: list = field(default_factory=list)   # extra (label, a, b): step a / step b
    compiled: dict = field(default_factory=dict)  # variant -> graphnet.compile handle
    # variant -> zero-argument callable returning the parameters as numpy arrays, in the
    # model's named_parameters() order (the same for every variant): compared after N steps
    params: dict = field(default_factory=dict)
    param_names: list = field(default_factory=list)  # the names of `params`' arrays, in order


def sgd_train_step(model, opt, x, y, mode: str | None):
    """(step, blocker, compiled handle or None) for the usual PyTorch-style training step on
    fixed data: zero_grad, cross-entropy, backward, opt.step. `mode` is None for eager, or a
    `graphnet.compile` mode ("static", "plan"). The blocker returns the parameters' arrays."""
    import graphnet
    import graphnet.nn.functional as F

    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    handle = graphnet.compile(train_step, mode=mode) if mode else None
    step = handle or train_step
    params = list(model.parameters())
    return (lambda: step(x, y)), (lambda: [p._value for p in params]), handle


def mlp_model(sizes, seed: int):
    """graphnet's Linear-ReLU-...-Linear MLP with the given widths, seeded."""
    import graphnet
    from graphnet import nn

    graphnet.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _mlp_loss(params, x, y):
    """The MLP's cross-entropy in jnp; `params` named as graphnet's Sequential names them."""
    from .workloads_twins import cross_entropy

    weights = [name for name in params if name.endswith(".weight")]
    h = x
    for i, name in enumerate(weights):
        h = h @ params[name].T + params[name[:-len("weight")] + "bias"]
        if i < len(weights) - 1:
            h = jax.nn.relu(h)
    return cross_entropy(h, y)


def _mlp_torch(sizes):
    import torch

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def mlp(sizes=(784, 256, 256, 10), batch: int = 128, lr: float = 0.01, momentum: float = 0.9,
        seed: int = 0, torch: bool = True, plan: bool = True, torch_compile: bool = False,
        name: str = "mlp") -> Workload:
    """The default: MLP 784-256-256-10, batch 128, SGD with momentum, cross-entropy. A mid-sized
    dense model: a few large matmuls per step, so per-op dispatch is visible but not dominant;
    `sizes` and `batch` are the scaling axes (step time against width and batch)."""
    import graphnet

    from . import workloads_twins as twins

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], batch).astype(np.int64)

    def build():
        model = mlp_model(sizes, seed)
        opt = graphnet.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        return model, opt, graphnet.from_numpy(x), graphnet.from_numpy(y)

    label = "-".join(str(s) for s in sizes)
    optimizer = f"SGD momentum {momentum}" if momentum else "SGD"
    return twins.make_workload(
        name, f"MLP {label}, batch {batch}, {optimizer}, cross-entropy train step", build,
        (x, y), _mlp_loss, twins.sgd(lr, momentum), (lambda: _mlp_torch(sizes)) if torch else None,
        ("SGD", dict(lr=lr, momentum=momentum)), plan, torch_compile)


WORKLOADS: dict[str, Callable[..., Workload]] = {"mlp": mlp}
from .workloads_zoo import ZOO_WORKLOADS; WORKLOADS.update(ZOO_WORKLOADS)  # noqa: E402,E702
from .workloads_resnet import RESNET_WORKLOADS; WORKLOADS.update(RESNET_WORKLOADS)  # noqa: E402,E702
from .workloads_more import MORE_WORKLOADS; WORKLOADS.update(MORE_WORKLOADS)  # noqa: E402,E702
