"""ResNet-18 benchmark workloads (registered into `runtime.workloads.WORKLOADS`).

- `resnet18-eval`: inference (eval mode, no grad), batch 8 of 3x64x64; variants `static`
  (all passes, BatchNorm folded into the convs, folded weights hoisted), `static-no-hoist`
  (folded weights recomputed every call), `static-no-bnfold` (the pass `eval_mode_rewrites`
  disabled), `dynamic` and `torch`.
- `resnet18-train`: one SGD-momentum step with cross-entropy, BatchNorm in training mode,
  batch 8 of 3x64x64, 10 classes; variants `static`, `dynamic`, `jax` (the same step
  written by hand in jnp and `lax`, jitted with JAX's defaults) and `torch`.

Every graphnet variant builds its model from the same seed; torch's copies the weights.
`Workload.params` is filled for the training step only (inference changes no parameter)."""

from __future__ import annotations

import numpy as np

from .workloads_twins import has_torch as _has_torch
from .workloads_twins import jax_twin, numpy_params, sgd, torch_twin
from .workloads_twins import torch_copy as _torch_copy


def _inputs(batch: int, seed: int, classes: int):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, 3, 64, 64), dtype=np.float32),
            rng.integers(0, classes, batch).astype(np.int64))


# ---- ResNet-18 inference ----------------------------------------------------------------------
def resnet18_graphnet(batch: int, seed: int, disable=None, compiled: bool = True,
                      hoist: bool = True):
    """(step, blocker, compiled handle or None, model): eval-mode ResNet-18 forward under
    no_grad; `disable` names passes to switch off, `hoist` is graphnet.compile's option."""
    import graphnet
    from graphnet.models import resnet18

    graphnet.manual_seed(seed)
    model = resnet18(num_classes=1000).eval()
    x = graphnet.from_numpy(np.random.default_rng(seed).standard_normal(
        (batch, 3, 64, 64), dtype=np.float32))
    handle = graphnet.compile(model, disable=disable or (), hoist=hoist) if compiled else None
    forward = handle if handle is not None else model   # a compiled module has no bool()

    def run():
        with graphnet.no_grad():
            return forward(x)

    return run, (lambda: []), handle, model


def _torch_resnet18(classes: int = 1000):
    from torch import nn

    def conv(cin, cout, k, stride):
        return nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = conv(cin, cout, 3, stride), nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2, self.bn2 = conv(cout, cout, 3, 1), nn.BatchNorm2d(cout)
            self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
                conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet18(nn.Module):  # torchvision.models.resnet18's names
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = conv(3, 64, 7, 2), nn.BatchNorm2d(64)
            self.relu, self.maxpool = nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
            for i, (cin, cout, stride) in enumerate(
                    [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]):
                setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, cout, stride),
                                                             BasicBlock(cout, cout, 1)))
            self.avgpool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(512, classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def _resnet18_torch(model, batch: int, seed: int):
    import torch

    tmodel = _torch_copy(model, _torch_resnet18()).eval()
    x = torch.from_numpy(np.random.default_rng(seed).standard_normal(
        (batch, 3, 64, 64), dtype=np.float32))

    def run():
        with torch.no_grad():
            return tmodel(x)

    return run, (lambda: [])


def resnet18_eval(batch: int = 8, seed: int = 0, torch: bool = True):
    """ResNet-18 eval-mode forward (no grad), batch 8 of 3x64x64, 1000 classes."""
    from graphnet.compiler.passes import BY_NAME

    from .workloads import Workload

    variants, blockers, handles = {}, {}, {}
    configs = {"static": dict(disable=()), "static-no-hoist": dict(hoist=False)}
    ratios = [("static-no-hoist / static (hoisting the folded weights)", "static-no-hoist",
               "static")]
    if "eval_mode_rewrites" in BY_NAME:
        configs["static-no-bnfold"] = dict(disable=["eval_mode_rewrites"])
        ratios.insert(0, ("static-no-bnfold / static (BatchNorm folding speedup)",
                          "static-no-bnfold", "static"))
    configs["dynamic"] = dict(compiled=False)
    for name, options in configs.items():
        variants[name], blockers[name], handles[name], model = resnet18_graphnet(
            batch, seed, **options)
    if torch and _has_torch():
        variants["torch"], blockers["torch"] = _resnet18_torch(model, batch, seed)
    return Workload("resnet18-eval", f"ResNet-18 eval forward (no grad), batch {batch}, "
                    f"3x64x64", variants, blockers, ratios,
                    {name: h for name, h in handles.items() if h is not None})


# ---- ResNet-18 training step --------------------------------------------------------------
def resnet18_train_graphnet(batch: int, seed: int, compiled: bool):
    """(step, blocker, compiled handle or None, model): an SGD-momentum train step."""
    import graphnet
    from graphnet.models import resnet18

    from .workloads import sgd_train_step

    graphnet.manual_seed(seed)
    model = resnet18(num_classes=10).train()
    opt = graphnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = (graphnet.from_numpy(a) for a in _inputs(batch, seed, 10))
    return (*sgd_train_step(model, opt, x, y, "static" if compiled else None), model)


def _resnet18_train_torch(model, batch: int, seed: int):
    return torch_twin(model, _torch_resnet18(classes=10).train(),
                      ("SGD", dict(lr=0.01, momentum=0.9)), *_inputs(batch, seed, 10))


def _resnet18_loss(params, buffers, x, y):
    """ResNet-18's training-mode cross-entropy as a JAX user writes it (`lax` convolutions
    and max pool, BatchNorm from the batch's statistics); (loss, the buffers BatchNorm
    updates: running mean, unbiased running variance, batches counted)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    from .workloads_twins import cross_entropy

    new = dict(buffers)

    def conv(h, name, stride, padding):
        return lax.conv_general_dilated(h, params[f"{name}.weight"], (stride, stride),
                                        [(padding, padding)] * 2,
                                        dimension_numbers=("NCHW", "OIHW", "NCHW"))

    def bn(h, name):
        mean, var = h.mean((0, 2, 3)), h.var((0, 2, 3))
        count = h.size // h.shape[1]
        new[f"{name}.running_mean"] = 0.9 * buffers[f"{name}.running_mean"] + 0.1 * mean
        new[f"{name}.running_var"] = 0.9 * buffers[f"{name}.running_var"] \
            + 0.1 * var * count / (count - 1)
        new[f"{name}.num_batches_tracked"] = buffers[f"{name}.num_batches_tracked"] + 1
        scale = params[f"{name}.weight"] / jnp.sqrt(var + 1e-5)
        shift = params[f"{name}.bias"] - mean * scale
        return h * scale[None, :, None, None] + shift[None, :, None, None]

    h = jax.nn.relu(bn(conv(x, "conv1", 2, 3), "bn1"))
    h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 3, 3), (1, 1, 2, 2),
                          ((0, 0), (0, 0), (1, 1), (1, 1)))
    for layer in range(1, 5):
        for block in range(2):
            name, stride = f"layer{layer}.{block}", 2 if layer > 1 and block == 0 else 1
            out = jax.nn.relu(bn(conv(h, f"{name}.conv1", stride, 1), f"{name}.bn1"))
            out = bn(conv(out, f"{name}.conv2", 1, 1), f"{name}.bn2")
            if f"{name}.downsample.0.weight" in params:
                h = bn(conv(h, f"{name}.downsample.0", stride, 0), f"{name}.downsample.1")
            h = jax.nn.relu(out + h)
    h = h.mean((2, 3))
    logits = h @ params["fc.weight"].T + params["fc.bias"]
    return cross_entropy(logits, y), {k: lax.stop_gradient(v) for k, v in new.items()}


def resnet18_train(batch: int = 8, seed: int = 0, torch: bool = True):
    """ResNet-18 SGD-momentum train step (BatchNorm in train mode), batch 8 of 3x64x64."""
    from .workloads import Workload

    variants, blockers, handles, params = {}, {}, {}, {}
    for name, compiled in (("static", True), ("dynamic", False)):
        variants[name], blockers[name], handles[name], model = resnet18_train_graphnet(
            batch, seed, compiled)
        params[name] = numpy_params(blockers[name])
    variants["jax"], blockers["jax"], params["jax"] = jax_twin(
        _resnet18_loss, model, sgd(0.01, 0.9), *_inputs(batch, seed, 10), buffers=True)
    if torch and _has_torch():
        variants["torch"], blockers["torch"], params["torch"] = _resnet18_train_torch(
            model, batch, seed)
    return Workload("resnet18-train", f"ResNet-18 SGD momentum train step, batch {batch}, "
                    f"3x64x64, 10 classes", variants, blockers,
                    compiled={"static": handles["static"]}, params=params,
                    param_names=[name for name, _ in model.named_parameters()])


RESNET_WORKLOADS = {"resnet18-eval": resnet18_eval, "resnet18-train": resnet18_train}
