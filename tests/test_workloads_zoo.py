"""The model-zoo benchmark workloads and dump targets (runtime/workloads_zoo.py): every
variant computes the same numbers (timings are for `graphnet bench`, never tests)."""

import numpy as np
import pytest

from graphnet.runtime.dump import MODELS, dump
from graphnet.runtime.workloads import WORKLOADS
from graphnet.runtime.workloads_resnet import resnet18_eval, resnet18_train
from graphnet.runtime.workloads_zoo import lenet


def test_zoo_workloads_and_dump_targets_are_registered():
    assert {"mlp", "lenet", "resnet18-eval", "resnet18-train"} <= set(WORKLOADS)
    assert {"mlp", "lenet", "alexnet", "resnet18"} <= set(MODELS)


def test_lenet_variants_train_identically():
    workload = lenet(batch=4)
    assert list(workload.variants) == ["static", "plan", "dynamic", "jax", "torch"]
    losses = {name: [_loss_value(step()) for _ in range(3)]
              for name, step in workload.variants.items()}
    for name, values in losses.items():
        np.testing.assert_allclose(values, losses["torch"], atol=1e-5, err_msg=name)
    assert losses["torch"][2] < losses["torch"][0]  # it trains
    reference = workload.params["torch"]()
    assert len(reference) == len(workload.param_names) == 10
    for name in workload.variants:   # the parameters `graphnet compare` reports on
        for got, want in zip(workload.params[name](), reference, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)


def _loss_value(out) -> float:
    """A step's loss as a float: a graphnet Tensor, a jax array or a torch tensor."""
    out = getattr(out, "_value", out)
    return float(out.detach() if hasattr(out, "detach") else out)


@pytest.mark.slow
def test_resnet18_eval_variants_agree():
    workload = resnet18_eval(batch=1)
    assert list(workload.variants) == ["static", "static-no-hoist", "static-no-bnfold", "dynamic",
                                      "torch"]
    outputs = {name: np.asarray(out._value) if hasattr(out, "_value") else out.numpy()
               for name, out in ((n, step()) for n, step in workload.variants.items())}
    for name, out in outputs.items():
        np.testing.assert_allclose(out, outputs["torch"], atol=1e-4, err_msg=name)


@pytest.mark.slow
def test_resnet18_train_variants_train_identically():
    workload = resnet18_train(batch=2)
    assert list(workload.variants) == ["static", "dynamic", "jax", "torch"]
    losses = {name: [_loss_value(step()) for _ in range(3)]
              for name, step in workload.variants.items()}
    for name, values in losses.items():
        np.testing.assert_allclose(values, losses["torch"], atol=1e-4, rtol=1e-4, err_msg=name)
    assert losses["torch"][2] < losses["torch"][0]  # it trains


def test_dump_lenet_prints_its_layers():
    text = dump("lenet", batch=2)
    assert text.startswith("graph LeNet(%x: f32[2,1,28,28]):")
    assert "# conv1" in text and "# fc3" in text
