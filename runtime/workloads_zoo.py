"""Benchmark workloads on `graphnet.models` (registered into `runtime.workloads.WORKLOADS`).

- `lenet`: a LeNet training step (SGD momentum 0.9, cross-entropy), batch 64 of 1x28x28;
  variants `static` (one jax.jit), `plan` (graphnet's own kernels, one jit each),
  `dynamic` (eager with a tape), `jax` (the same step written by hand in jnp and `lax`,
  jitted with JAX's defaults) and `torch` (PyTorch eager).
- ResNet-18 inference and training: runtime/workloads_resnet.py.

Every graphnet variant builds its own model from the same seed, so they start from the
same weights; torch's copies them. `Workload.params` holds every variant's parameters."""

from __future__ import annotations

import numpy as np

from .workloads_twins import has_torch as _has_torch
from .workloads_twins import jax_twin, numpy_params, sgd, torch_twin

# NOTE: runtime.workloads imports this module at its end to register ZOO_WORKLOADS, so the
# `Workload` class is imported inside the builders, never at module level (no import cycle
# whichever of the two modules is imported first).


# ---- LeNet training step ----------------------------------------------------------------------
def lenet_graphnet(batch: int, seed: int, mode: str | None):
    """(step, blocker, compiled handle or None, model): a LeNet SGD-momentum train step; `mode`
    is None for eager or a `graphnet.compile` mode ("static", "plan")."""
    import graphnet
    from graphnet.models import LeNet

    from .workloads import sgd_train_step

    graphnet.manual_seed(seed)
    model = LeNet(classes=10, in_channels=1, image_size=28)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = _lenet_data(batch, seed)
    x, y = graphnet.from_numpy(x), graphnet.from_numpy(y)
    return (*sgd_train_step(model, opt, x, y, mode), model)


def _lenet_data(batch: int, seed: int) -> tuple:
    """The fixed (images, labels) every LeNet variant trains on."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, 1, 28, 28), dtype=np.float32),
            rng.integers(0, 10, batch).astype(np.int64))


def _lenet_loss(params, x, y):
    """LeNet's cross-entropy as a JAX user writes it: `lax.conv_general_dilated`,
    `lax.reduce_window` max pools, matmuls; parameters named as graphnet's LeNet names them."""
    import jax
    from jax import lax

    from .workloads_twins import cross_entropy

    def conv(h, name):
        out = lax.conv_general_dilated(h, params[f"{name}.weight"], (1, 1), "VALID",
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return out + params[f"{name}.bias"][None, :, None, None]

    def pool(h):
        return lax.reduce_window(h, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def linear(h, name):
        return h @ params[f"{name}.weight"].T + params[f"{name}.bias"]

    h = pool(jax.nn.relu(conv(x, "conv1")))
    h = pool(jax.nn.relu(conv(h, "conv2"))).reshape(x.shape[0], -1)
    h = jax.nn.relu(linear(h, "fc1"))
    h = jax.nn.relu(linear(h, "fc2"))
    return cross_entropy(linear(h, "fc3"), y)


def _lenet_torch(model, batch: int, seed: int):
    import torch.nn.functional as F
    from torch import nn

    class LeNet(nn.Module):  # graphnet.models.LeNet(10, 1, 28), written in torch
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(256, 120), nn.Linear(120, 84), \
                nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return torch_twin(model, LeNet(), ("SGD", dict(lr=0.01, momentum=0.9)),
                      *_lenet_data(batch, seed))


def lenet(batch: int = 64, seed: int = 0, torch: bool = True, plan: bool = True):
    """LeNet (ReLU, max pool) train step on 1x28x28, batch 64, SGD momentum, cross-entropy."""
    from .workloads import Workload

    variants, blockers, handles, params = {}, {}, {}, {}
    modes = {"static": "static"} | ({"plan": "plan"} if plan else {}) | {"dynamic": None}
    for name, mode in modes.items():
        variants[name], blockers[name], handles[name], model = lenet_graphnet(batch, seed, mode)
        params[name] = numpy_params(blockers[name])
    variants["jax"], blockers["jax"], params["jax"] = jax_twin(
        _lenet_loss, model, sgd(0.01, 0.9), *_lenet_data(batch, seed))
    if torch and _has_torch():
        variants["torch"], blockers["torch"], params["torch"] = _lenet_torch(model, batch, seed)
    return Workload("lenet", f"LeNet 1x28x28, batch {batch}, SGD momentum, cross-entropy "
                    f"train step", variants, blockers,
                    [("plan / static (what whole-program XLA fusion buys)", "plan", "static")],
                    {name: h for name, h in handles.items() if h is not None}, params,
                    [name for name, _ in model.named_parameters()])


ZOO_WORKLOADS = {"lenet": lenet}


# ---- `graphnet dump` targets: name -> builder(batch) returning (model, example_inputs) -----
def _dump_target(build, shape):
    def builder(batch: int):
        import graphnet

        graphnet.manual_seed(0)
        return build(), (graphnet.zeros(batch, *shape),)

    return builder


def _lenet():
    from graphnet.models import LeNet

    return LeNet(classes=10, in_channels=1, image_size=28)


def _alexnet():
    from graphnet.models import alexnet

    return alexnet()


def _resnet18():
    from graphnet.models import resnet18

    return resnet18()


DUMP_MODELS = {"lenet": _dump_target(_lenet, (1, 28, 28)),           # 1x28x28, 10 classes
               "alexnet": _dump_target(_alexnet, (3, 224, 224)),     # torchvision size
               "resnet18": _dump_target(_resnet18, (3, 224, 224))}   # torchvision size
