"""Shared parity helpers: run the same module in PyTorch, graphnet dynamic and graphnet
static, and compare outputs and gradients.

    check_module(gn_layer, torch_layer, [x_numpy], atol=1e-5)

copies torch's parameters into graphnet's module (state_dict by name, so keys must match),
then checks: forward values (dynamic and static) and the gradients of
sum(out * fixed_random_weights) with respect to the float inputs and every parameter."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet

torch = pytest.importorskip("torch")


def to_torch(a: np.ndarray, requires_grad=False):
    t = torch.from_numpy(np.array(a))
    return t.requires_grad_(requires_grad) if requires_grad else t


def to_gn(a: np.ndarray, requires_grad=False):
    return graphnet.tensor(np.array(a), requires_grad=requires_grad)


def np_of(t) -> np.ndarray:
    if isinstance(t, graphnet.Tensor):
        return np.asarray(t.detach()._value)
    return t.detach().cpu().numpy()


def assert_close(actual, expected, atol=1e-5, rtol=1e-5, what=""):
    a, e = np_of(actual) if not isinstance(actual, np.ndarray) else actual, \
        np_of(expected) if not isinstance(expected, np.ndarray) else expected
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), atol=atol, rtol=rtol,
                               err_msg=what)


def copy_torch_params(torch_module, gn_module) -> None:
    state = {k: graphnet.from_numpy(v.detach().cpu().numpy().copy())
             for k, v in torch_module.state_dict().items()}
    gn_module.load_state_dict(state)


def _float(a) -> bool:
    return np.asarray(a).dtype.kind == "f"


def check_module(gn_module, torch_module, inputs, atol=1e-5, rtol=1e-5, grads=True,
                 static=True, copy=True, seed=0):
    """Forward and backward parity of one module: torch vs graphnet dynamic vs static."""
    if copy:
        copy_torch_params(torch_module, gn_module)
    inputs = [np.asarray(a) for a in inputs]
    t_in = [to_torch(a, requires_grad=grads and _float(a)) for a in inputs]
    t_out = torch_module(*t_in)
    t_out = t_out[0] if isinstance(t_out, tuple) else t_out
    weights = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(
        np_of(t_out).dtype)
    if grads:
        (t_out * to_torch(weights)).sum().backward()

    def step(*xs):
        out = gn_module(*xs)
        out = out[0] if isinstance(out, tuple) else out
        if grads:
            (out * graphnet.from_numpy(weights)).sum().backward()
        return out

    modes = [("dynamic", step)]
    if static:
        modes.append(("static", graphnet.compile(step)))
    for mode, fn in modes:
        gn_module.zero_grad()
        g_in = [to_gn(a, requires_grad=grads and _float(a)) for a in inputs]
        out = fn(*g_in)
        assert_close(out, t_out, atol, rtol, f"{mode} forward")
        if not grads:
            continue
        for i, (g, t) in enumerate(zip(g_in, t_in)):
            if t.grad is not None:
                assert g.grad is not None, f"{mode}: input {i} got no grad"
                assert_close(g.grad, t.grad, atol, rtol, f"{mode} grad of input {i}")
        t_params = dict(torch_module.named_parameters())
        for name, p in gn_module.named_parameters():
            tp = t_params[name]
            if tp.grad is None:
                assert p.grad is None, f"{mode}: {name} has a grad torch does not"
            else:
                assert p.grad is not None, f"{mode}: no grad for {name}"
                assert_close(p.grad, tp.grad, atol, rtol, f"{mode} grad of {name}")
    return t_out
