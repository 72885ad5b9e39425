"""`detect_anomaly()` in both modes against PyTorch: a backward node that returns NaN raises
PyTorch's error naming the node, in eager mode and in a compiled call (where nothing is written
back), and a compiled function compiled without it is compiled again when it is turned on."""

import graphnet as gt
import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled"),
              pytest.mark.filterwarnings("ignore:Error detected in")]


def _sqrt_step(lib, compiled: bool):
    model = lib.nn.Linear(2, 1)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.0, 1.0]]))
        model.bias.zero_()
    opt = lib.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (model.weight.sqrt() * x).sum() + model(x).sum()
        loss.backward()
        opt.step()
        return loss

    return model, (gt.compile(step) if compiled else step)


def _outcome(lib, compiled: bool, anomaly: bool):
    model, step = _sqrt_step(lib, compiled)
    x = lib.tensor([[0.0, 1.0]])
    try:
        with lib.autograd.set_detect_anomaly(anomaly):
            step(x)
        error = None
    except RuntimeError as e:
        error = str(e).splitlines()[0]
    return error, model.weight.detach().numpy().copy(), model.weight.grad


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_nan_from_a_backward_node_raises_and_leaves_the_parameters(compiled):
    want_error, want_weight, want_grad = _outcome(torch, False, True)
    error, weight, grad = _outcome(gt, compiled, True)
    assert want_error == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert error == want_error
    np.testing.assert_array_equal(weight, want_weight)      # the step never ran
    assert want_grad is None and grad is None


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_without_anomaly_detection_the_nan_reaches_the_parameters(compiled):
    want_error, want_weight, _ = _outcome(torch, False, False)
    error, weight, _ = _outcome(gt, compiled, False)
    assert want_error is None and error is None
    np.testing.assert_array_equal(np.isnan(weight), np.isnan(want_weight))
    assert np.isnan(weight).any()


def test_turning_anomaly_detection_on_compiles_again():
    w = gt.tensor([0.0, 4.0], requires_grad=True)

    @gt.compile
    def grads(x):
        (w.sqrt() * x).sum().backward()

    grads(gt.tensor([1.0, 1.0]))                   # no NaN yet (0 * inf is inf)
    w.grad = None
    grads(gt.tensor([0.0, 1.0]))                   # NaN, unchecked
    assert np.isnan(w.grad.numpy()[0])
    w.grad = None
    with gt.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="'SqrtBackward0' returned nan values in its 0th"):
            grads(gt.tensor([0.0, 1.0]))
        assert w.grad is None
        grads(gt.tensor([1.0, 1.0]))                # the checked program passes this call
        np.testing.assert_allclose(w.grad.numpy(), [np.inf, 0.25])
    assert grads.explain()["recompile_reasons"] == ["first call",
                                                    "anomaly detection False -> True"]


def test_the_checked_program_names_the_node_and_its_input_as_torch():
    def outcome(lib, compiled):
        a = lib.tensor([1.0, 2.0])
        b = lib.tensor([0.0, 1.0], requires_grad=True)

        def f():
            # d/db of a / b at b = 0 is -a/b^2 = -inf; times 0 gives NaN in input 1 (input 0
            # needs no grad: PyTorch still counts it)
            return lib.autograd.grad(((a / b) * lib.tensor([0.0, 1.0])).sum(), [b])

        f = gt.compile(f) if compiled else f
        with lib.autograd.detect_anomaly():
            try:
                f()
            except RuntimeError as e:
                return str(e).splitlines()[0]

    want = outcome(torch, False)
    assert want == "Function 'DivBackward0' returned nan values in its 1th output."
    assert outcome(gt, False) == want
    assert outcome(gt, True) == want
