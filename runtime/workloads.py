"""Benchmark workloads: one model trained four ways on the same math.

Each workload builds `variants`: name -> step function returning something to block on.
`dynamic` and `static` run the same graphnet training step; `jax` is a hand-written
`jax.jit` of identical math (the ceiling graphnet's static mode is judged against); `torch`
is PyTorch eager (when installed), the reference for the dynamic mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np


@dataclass
class Workload:
    name: str
    description: str
    variants: dict          # name -> zero-argument step callable returning an array-ish
    blockers: dict          # name -> callable returning arrays to block on after a run
    ratios: list = field(default_factory=list)   # extra (label, a, b): step a / step b
    compiled: dict = field(default_factory=dict)  # variant -> graphnet.compile handle


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


def _mlp_graphnet(sizes, batch, lr, momentum, seed, compiled: bool):
    import graphnet

    model = mlp_model(sizes, seed)
    opt = graphnet.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    x = graphnet.from_numpy(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
    y = graphnet.from_numpy(rng.integers(0, sizes[-1], batch).astype(np.int64))
    run, blocker, handle = sgd_train_step(model, opt, x, y, "static" if compiled else None)
    return run, blocker, model, handle


def _mlp_jax(model, batch, sizes, lr, momentum, seed):
    params = [(layer.weight._value, layer.bias._value) for layer in model
              if hasattr(layer, "weight")]
    params = jax.tree_util.tree_map(jnp.array, params)  # own copies
    bufs = jax.tree_util.tree_map(jnp.zeros_like, params)
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
    y = jnp.asarray(rng.integers(0, sizes[-1], batch).astype(np.int64))

    def loss_fn(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    @jax.jit
    def step(params, bufs, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        bufs = jax.tree_util.tree_map(lambda b, g: momentum * b + g, bufs, grads)
        params = jax.tree_util.tree_map(lambda p, b: p - lr * b, params, bufs)
        return loss, params, bufs

    state = {"params": params, "bufs": bufs}

    def run():
        loss, state["params"], state["bufs"] = step(state["params"], state["bufs"], x, y)
        return loss

    return run, (lambda: state["params"])


def _mlp_torch(model, batch, sizes, lr, momentum, seed):
    try:
        import torch
    except ImportError:
        return None
    layers = []
    for i, layer in enumerate([m for m in model if hasattr(m, "weight")]):
        lin = torch.nn.Linear(*reversed(layer.weight.shape))
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.array(layer.weight._value)))
            lin.bias.copy_(torch.from_numpy(np.array(layer.bias._value)))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    tmodel = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(tmodel.parameters(), lr=lr, momentum=momentum)
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, sizes[-1], batch).astype(np.int64))

    def run():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tmodel(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    return run, (lambda: [])


def mlp(sizes=(784, 256, 256, 10), batch: int = 128, lr: float = 0.01, momentum: float = 0.9,
        seed: int = 0, torch: bool = True) -> Workload:
    """The default: MLP 784-256-256-10, batch 128, SGD with momentum, cross-entropy."""
    dyn_step, dyn_block, model, _ = _mlp_graphnet(sizes, batch, lr, momentum, seed, False)
    st_step, st_block, _, handle = _mlp_graphnet(sizes, batch, lr, momentum, seed, True)
    jax_step, jax_block = _mlp_jax(model, batch, sizes, lr, momentum, seed)
    variants = {"jax": jax_step, "static": st_step, "dynamic": dyn_step}
    blockers = {"jax": jax_block, "static": st_block, "dynamic": dyn_block}
    reference = _mlp_torch(model, batch, sizes, lr, momentum, seed) if torch else None
    if reference is not None:
        variants["torch"], blockers["torch"] = reference
    label = "-".join(str(s) for s in sizes)
    return Workload("mlp", f"MLP {label}, batch {batch}, SGD momentum, cross-entropy train step",
                    variants, blockers, compiled={"static": handle})


WORKLOADS: dict[str, Callable[..., Workload]] = {"mlp": mlp}
from .workloads_zoo import ZOO_WORKLOADS; WORKLOADS.update(ZOO_WORKLOADS)  # noqa: E402,E702
from .workloads_resnet import RESNET_WORKLOADS; WORKLOADS.update(RESNET_WORKLOADS)  # noqa: E402,E702
