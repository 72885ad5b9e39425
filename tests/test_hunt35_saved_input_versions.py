"""relu6, prelu, mse_loss and nll_loss save their input for backward in PyTorch, so an
in-place write to it between the forward and backward() raises "modified by an inplace
operation"; graphnet computed the gradient of the old values instead, eagerly and compiled.
A write that PyTorch allows (after an op that saves nothing of it) still runs."""

import pytest
import torch

import graphnet

CASES = {
    "relu6": lambda L, t: L.nn.functional.relu6(t),
    "prelu": lambda L, t: L.nn.functional.prelu(t, L.tensor([0.2])),
    "mse_loss": lambda L, t: L.nn.functional.mse_loss(t, L.ones(4)),
    "nll_loss": lambda L, t: L.nn.functional.nll_loss(t.reshape(1, 4), L.tensor([1])),
}


def _write_after(lib, fn, compiled=False):
    def step(a):
        x = a * 1
        y = fn(lib, x).sum()
        x.add_(1)
        y.backward()
        return y

    a = lib.tensor([0.5, 1.5, -0.3, 2.0], requires_grad=True)
    (graphnet.compile(step) if compiled else step)(a)
    return a.grad


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("lib", ["torch", "graphnet", "graphnet_compiled"])
def test_write_to_a_saved_input_raises(name, lib):
    module = torch if lib == "torch" else graphnet
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _write_after(module, CASES[name], compiled=lib == "graphnet_compiled")


def test_an_op_that_saves_nothing_of_its_input_still_allows_the_write():
    for lib in (torch, graphnet):
        assert _write_after(lib, lambda L, t: t * 3).tolist() == [3.0] * 4
