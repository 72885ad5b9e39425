"""PyTorch's "modified by an inplace operation" error where a backward would read weights or
outputs written since the forward, in both modes. graphnet computed those gradients from the
old values without an error: `linear` and `conv` never counted their weight as saved (PyTorch
saves `weight.t()`, a view sharing the weight's version), an optimizer's step bumped no
version (a trace could not see it), a trace's in-place op walked from a `.grad`-derived
update into the forward and dropped its entries, and `h.relu_(); h.mul_(2)` compiled followed
a temporary. PyTorch saves one operand of `x @ w` only when the other needs a gradient, so a
constant input leaves the weight free to change, as here."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

OPS = {
    "linear": lambda T, x, w: T.nn.functional.linear(x, w),
    "linear_3d": lambda T, x, w: T.nn.functional.linear(x[None], w),
    "matmul": lambda T, x, w: x @ w,
    "bmm": lambda T, x, w: T.bmm(x[None], w[None]),
    "einsum": lambda T, x, w: T.einsum("ij,jk->ik", x, w),
    "mv": lambda T, x, w: T.mv(w, x[0]),
    "conv1d": lambda T, x, w: T.nn.functional.conv1d(x[None], w[:, :, None]),
    "layer_norm": lambda T, x, w: T.nn.functional.layer_norm(x, (2,), w[0]),
}


def _outcome(lib, op, x_grad, compiled=False):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=x_grad)
    w = lib.tensor([[1.0, -1.0], [2.0, 0.5]], requires_grad=True)

    def body(x, w):
        y = OPS[op](lib, x, w)
        with lib.no_grad():
            w.mul_(10)
        y.sum().backward()
        return w

    try:
        (graphnet.compile(body) if compiled else body)(x, w)
    except RuntimeError as err:
        assert "modified by an inplace operation" in str(err), err
        return "raises"
    return np.asarray(w.grad.tolist())


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("x_grad", [True, False])
@pytest.mark.parametrize("op", list(OPS))
def test_a_weight_written_before_backward_raises_where_torch_does(op, x_grad, compiled):
    want = _outcome(torch, op, x_grad)
    got = _outcome(graphnet, op, x_grad, compiled)
    if isinstance(want, str):
        assert got == want
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6)


def _gan_order_mistake(lib, compiled):
    """The discriminator steps before the generator's loss, built on the same discriminator
    forward, is backpropagated."""
    gen, disc = lib.nn.Linear(2, 2), lib.nn.Linear(2, 1)
    og = lib.optim.SGD(gen.parameters(), lr=0.1)
    od = lib.optim.SGD(disc.parameters(), lr=0.1)

    def step(z):
        d_out = disc(gen(z))
        od.zero_grad()
        d_out.mean().backward(retain_graph=True)
        od.step()
        og.zero_grad()
        (-d_out.mean()).backward()
        og.step()
        return d_out

    (graphnet.compile(step) if compiled else step)(lib.tensor([[1.0, 2.0]]))


def _step_between_backwards(lib, compiled):
    w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
    opt = lib.optim.Adam([w], lr=0.1)

    def step(x):
        loss = (w * w * x).sum()
        loss.backward(retain_graph=True)
        opt.step()
        loss.backward()
        return loss

    (graphnet.compile(step) if compiled else step)(lib.tensor([1.0, 1.0]))


def _manual_update_between_backwards(lib, compiled):
    w, v = lib.nn.Parameter(lib.tensor([1.0, 2.0])), lib.nn.Parameter(lib.tensor([1.0, 2.0]))

    def step(x):
        loss = (w * w * x).sum() + (v * x).sum()
        loss.backward(retain_graph=True)
        with lib.no_grad():
            w.sub_(0.1 * v.grad)
        loss.backward()
        return x

    (graphnet.compile(step) if compiled else step)(lib.tensor([1.0, 1.0]))


def _inplace_output_written(lib, compiled):
    x = lib.tensor([1.0, -2.0], requires_grad=True)

    def step(x):
        h = x * 2
        h.relu_()      # relu's backward reads its output, which `h` now holds
        h.mul_(2)
        h.sum().backward()
        return x

    (graphnet.compile(step) if compiled else step)(x)


PROGRAMS = {"gan_order_mistake": _gan_order_mistake,
            "optimizer_step_between_backwards": _step_between_backwards,
            "manual_update_between_backwards": _manual_update_between_backwards,
            "relu_then_mul_": _inplace_output_written}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_writes_torch_refuses_raise_in_both_modes(name, compiled):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        PROGRAMS[name](torch, False)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        PROGRAMS[name](graphnet, compiled)


def test_an_optimizer_step_bumps_the_version_as_torchs_in_place_update():
    for lib in (torch, graphnet):
        w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        opt = lib.optim.SGD([w], lr=0.1)
        (w * w).sum().backward()
        before = w._version
        opt.step()
        assert w._version > before, lib.__name__
