"""Benchmark workloads chosen to show where each mode wins (registered into
`runtime.workloads.WORKLOADS`):

- `tiny`: MLP 16-16-4, batch 8, plain SGD. The arithmetic is a few hundred flops, so a step's
  time is nearly all per-op overhead: dynamic mode's dispatch and tape against one compiled
  call. The upper bound of what compiling buys.
- `convnet`: two 3x3 convs with ReLU and max pool, then a linear classifier, on 1x28x28;
  `width` multiplies the channels (8w, 16w). With `batch` it is the scaling axis for
  convolutions: per-op overhead dominates at batch 1 and width 1 and vanishes as the convs
  grow.
- `lstm-lm`, `lstm-lm-cells`, `transformer`: sequence models, runtime/workloads_seq.py.

Every workload has graphnet's `dynamic`, `static` and `plan` variants, a hand-written `jax`
twin of the same math and a `torch` twin (PyTorch eager, when installed and torch=True),
all from the same initial weights and data (runtime/workloads_twins.py)."""

from __future__ import annotations

import jax
import numpy as np
from jax import lax

from . import workloads_twins as twins
from .workloads_seq import SEQ_WORKLOADS


# ---- tiny: dispatch overhead dominates ------------------------------------------------------
def tiny(batch: int = 8, seed: int = 0, torch: bool = True, sizes=(16, 16, 4),
         lr: float = 0.05, plan: bool = True, torch_compile: bool = False):
    """MLP 16-16-4, batch 8, plain SGD: a step does almost no arithmetic, so it measures the
    fixed cost per op (dynamic mode's dispatch and tape) against one compiled call."""
    from .workloads import mlp

    return mlp(sizes=sizes, batch=batch, lr=lr, momentum=0.0, seed=seed, torch=torch,
               plan=plan, torch_compile=torch_compile, name="tiny")


# ---- convnet: the scaling axis for convolutions --------------------------------------------
def convnet_model(width: int, seed: int):
    """conv(1->8w, 3) ReLU maxpool(2), conv(8w->16w, 3) ReLU maxpool(2), linear(->10)."""
    import graphnet
    from graphnet import nn

    graphnet.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8 * width, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8 * width, 16 * width, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * width * 5 * 5, 10))


def _convnet_torch(width: int):
    from torch import nn

    return nn.Sequential(nn.Conv2d(1, 8 * width, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8 * width, 16 * width, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * width * 5 * 5, 10))


def _conv_relu_pool(x, w, b):
    x = lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
    x = jax.nn.relu(x + b[None, :, None, None])
    return lax.reduce_window(x, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def _convnet_loss(p, x, y):
    h = _conv_relu_pool(x, p["0.weight"], p["0.bias"])
    h = _conv_relu_pool(h, p["3.weight"], p["3.bias"]).reshape(x.shape[0], -1)
    return twins.cross_entropy(h @ p["7.weight"].T + p["7.bias"], y)


def convnet(batch: int = 64, seed: int = 0, torch: bool = True, width: int = 1,
            lr: float = 0.01, momentum: float = 0.9, plan: bool = True,
            torch_compile: bool = False):
    """Small CNN on 1x28x28 (channels 8*width, 16*width), batch 64, SGD momentum 0.9,
    cross-entropy: step time against `batch` and `width` shows where dynamic mode's per-op
    overhead stops mattering for convolutions."""
    import graphnet

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)

    def build():
        model = convnet_model(width, seed)
        opt = graphnet.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        return model, opt, graphnet.from_numpy(x), graphnet.from_numpy(y)

    return twins.make_workload(
        "convnet", f"ConvNet width {width} (channels {8 * width}, {16 * width}) on 1x28x28, "
        f"batch {batch}, SGD momentum, cross-entropy train step", build, (x, y),
        _convnet_loss, twins.sgd(lr, momentum), (lambda: _convnet_torch(width)) if torch else None,
        ("SGD", dict(lr=lr, momentum=momentum)), plan, torch_compile)


MORE_WORKLOADS = {"tiny": tiny, "convnet": convnet, **SEQ_WORKLOADS}
