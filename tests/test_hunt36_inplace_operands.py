"""An in-place step whose operand was computed from the tensor it writes (`y += h * (y @ W)`,
an Euler step written in place) raises PyTorch's "modified by an inplace operation" at
backward: the matmul saved `y`. graphnet took every node within 16 of the in-place result as
the method's own and dropped their references to `y`, so it gave the out-of-place program's
gradient without a word, eagerly and compiled. Found by the neural-ODE hunt."""

import numpy as np
import pytest
import torch

import graphnet

W0 = [[0.5, -1.0], [2.0, 0.3]]
X0 = [[0.1, 0.2], [0.3, -0.4]]

WRITES = {
    "iadd_scaled_matmul": lambda y, W: y.__iadd__(0.1 * (y @ W)),
    "add_matmul": lambda y, W: y.add_(y @ W),
    "mul_of_product": lambda y, W: y.mul_(y * W),
    "sub_tanh": lambda y, W: y.sub_((y @ W).tanh()),
    "addcmul": lambda y, W: y.addcmul_(y @ W, W),
}

# copies and index writes, outside the in-place wrapper
ALSO = {
    "copy_": lambda y, W: y.copy_(y @ W),
    "setitem": lambda y, W: y.__setitem__((slice(None), 0), (y @ W)[:, 0]),
    "masked_setitem": lambda y, W: y.__setitem__(y > 0, (y @ W).sum()),
}


def _run(L, write, compiled=False):
    W = L.tensor(W0, requires_grad=True)
    x = L.tensor(X0, requires_grad=True)

    def step(W, x):
        y = x.clone()
        write(y, W)
        (y ** 2).sum().backward()
        return W.grad

    return (graphnet.compile(step) if compiled else step)(W, x)


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", sorted({**WRITES, **ALSO}))
def test_raises_as_torch_does(name, compiled):
    write = {**WRITES, **ALSO}[name]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _run(torch, write)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _run(graphnet, write, compiled)


def _lib(t):
    return torch if isinstance(t, torch.Tensor) else graphnet


FINE = {
    "operand_without_y": lambda y, W: y.add_(W @ W),
    "own_composite": lambda y, W: y.mul_(2).add_(W.sum()),
    "mish_after_a_product": lambda y, W: _lib(y).nn.functional.mish(y.mul_(W), inplace=True),
    "addcmul_of_weights": lambda y, W: y.addcmul_(W, W, value=0.5),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", sorted(FINE))
def test_writes_torch_allows_still_run(name, compiled):
    want = _run(torch, FINE[name])
    got = _run(graphnet, FINE[name], compiled)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
