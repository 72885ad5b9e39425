"""The seed tutorials' models, small, for checking every pass on real networks: the model's
outputs (two calls) and its state after them must agree between dynamic mode, static mode
with every pass and static mode without the pass under test."""

from __future__ import annotations

import numpy as np

import graphnet
from graphnet import models

# name -> (builder, input shape, train mode); builders take no arguments and use the seed.
SEED_MODELS = {
    "lenet": (lambda: models.LeNet(classes=10, in_channels=1, image_size=28), (2, 1, 28, 28),
              False),
    "vgg_block": (lambda: models.vgg_block(2, 3, 8), (2, 3, 8, 8), False),
    "inception": (lambda: models.Inception(4, 2, (2, 4), (2, 4), 2), (2, 4, 6, 6), False),
    "residual_bn_train": (lambda: models.Residual(3, 6, use_1x1conv=True, stride=2),
                          (2, 3, 6, 6), True),
    "residual_bn_eval": (lambda: models.Residual(3, 6, use_1x1conv=True, stride=2),
                         (2, 3, 6, 6), False),
    "dense_block": (lambda: models.DenseBlock(2, 3, 4), (2, 3, 5, 5), False),
    "alexnet_eval": (lambda: models.alexnet_small(num_classes=10), (1, 3, 63, 63), False),
}


def _build(name: str):
    builder, _, train = SEED_MODELS[name]
    graphnet.manual_seed(0)
    model = builder()
    rng = np.random.default_rng(1)
    with graphnet.no_grad():     # BatchNorm statistics and affine away from 0 and 1
        for module in model.modules():
            if isinstance(module, graphnet.nn.BatchNorm2d):
                c = module.num_features
                for attr, value in [("running_mean", rng.normal(0, 0.2, c)),
                                    ("running_var", rng.uniform(0.5, 1.5, c)),
                                    ("weight", rng.normal(1, 0.3, c)),
                                    ("bias", rng.normal(0, 0.3, c))]:
                    getattr(module, attr).copy_(graphnet.from_numpy(value.astype(np.float32)))
    return model.train(train)


def seed_model_agrees(name: str, pass_name: str, mode: str = "static", atol: float = 2e-5,
                      rtol: float = 2e-5) -> dict:
    """Outputs (two calls) and buffers of model `name`: dynamic == compiled with every pass ==
    compiled without `pass_name`, both in `mode`. A plan pass changes only what mode="plan"
    runs (static mode leaves fusion to XLA), so its tests pass mode="plan"; static mode with
    every pass is then compared too. Returns label -> the compiled handle, for reading its
    graph and plan."""
    x = graphnet.from_numpy(np.random.default_rng(2).standard_normal(
        SEED_MODELS[name][1]).astype(np.float32))
    runs = [("dynamic", None), ("all passes", dict(mode=mode)),
            (f"without {pass_name}", dict(mode=mode, disable=[pass_name]))]
    if mode != "static":
        runs.append(("static, all passes", dict(mode="static")))
    results, compiled = {}, {}
    for label, options in runs:
        model = _build(name)
        run = model if options is None else graphnet.compile(model, debug=True, **options)
        with graphnet.no_grad():
            outs = [np.asarray(run(x)._value) for _ in range(2)]
        results[label] = outs + [np.asarray(b._value) for b in model.buffers()]
        compiled[label] = run
    expected = results.pop("dynamic")
    for label, arrays in results.items():
        assert len(arrays) == len(expected)
        for got, want in zip(arrays, expected, strict=True):
            np.testing.assert_allclose(got, want, atol=atol, rtol=rtol,
                                       err_msg=f"{name}, {label}")
    return compiled
