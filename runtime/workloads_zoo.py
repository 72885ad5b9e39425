"""Benchmark workloads on `graphnet.models` (registered into `runtime.workloads.WORKLOADS`).

- `lenet`: a LeNet training step (SGD momentum 0.9, cross-entropy), batch 64 of 1x28x28;
  variants `static` (one jax.jit), `plan` (graphnet's own kernels, one jit each),
  `dynamic` (eager with a tape) and `torch` (PyTorch eager).
- ResNet-18 inference and training: runtime/workloads_resnet.py.

Every graphnet variant builds its own model from the same seed, so they start from the
same weights; torch's copies them. `Workload.params` holds every variant's parameters."""

from __future__ import annotations

import numpy as np

from .workloads_twins import has_torch as _has_torch
from .workloads_twins import numpy_params, torch_twin

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
    rng = np.random.default_rng(seed)
    x = graphnet.from_numpy(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32))
    y = graphnet.from_numpy(rng.integers(0, 10, batch).astype(np.int64))
    return (*sgd_train_step(model, opt, x, y, mode), model)


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

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    return torch_twin(model, LeNet(), ("SGD", dict(lr=0.01, momentum=0.9)), x, y)


def lenet(batch: int = 64, seed: int = 0, torch: bool = True, plan: bool = True):
    """LeNet (ReLU, max pool) train step on 1x28x28, batch 64, SGD momentum, cross-entropy."""
    from .workloads import Workload

    variants, blockers, handles, params = {}, {}, {}, {}
    modes = {"static": "static"} | ({"plan": "plan"} if plan else {}) | {"dynamic": None}
    for name, mode in modes.items():
        variants[name], blockers[name], handles[name], model = lenet_graphnet(batch, seed, mode)
        params[name] = numpy_params(blockers[name])
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
