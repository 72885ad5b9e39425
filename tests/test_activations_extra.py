"""The less common activations (issue 10): each module against PyTorch, forward and
gradients, eager and compiled, and its repr; plus the functional forms' in-place, error and
random (RReLU training) behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet
import graphnet.nn as nn
import graphnet.nn.functional as F
from parity import assert_close, check_module, np_of, to_gn, to_torch

torch = pytest.importorskip("torch")
tnn, TF = torch.nn, torch.nn.functional

# (name, constructor args); the same args build graphnet's and torch's module.
MODULES = [
    ("Mish", ()), ("Mish", (True,)),
    ("Hardswish", ()), ("Hardswish", (True,)),
    ("Hardsigmoid", ()), ("Hardsigmoid", (True,)),
    ("SELU", ()), ("SELU", (True,)),
    ("CELU", ()), ("CELU", (0.5,)), ("CELU", (2.0, True)),
    ("GLU", ()), ("GLU", (1,)), ("GLU", (0,)),
    ("Softsign", ()), ("Tanhshrink", ()), ("LogSigmoid", ()),
    ("Threshold", (0.1, 20)), ("Threshold", (-0.5, 2.0, True)),
    ("Softmin", (1,)), ("Softmin", (-1,)), ("Softmin", (0,)),
    ("Hardshrink", ()), ("Hardshrink", (1,)),
    ("Softshrink", ()), ("Softshrink", (1.5,)),
    ("RReLU", ()), ("RReLU", (0.1, 0.3, True)),
]


def _input(seed=0, shape=(4, 6, 2)) -> np.ndarray:
    # NOTE: scaled so every kink (±3, ±lambd, the thresholds) has points on both sides;
    # a draw landing exactly on a kink is ~impossible in float32.
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(np.float32)


def _ids(case):
    name, args = case
    return f"{name}{args}"


@pytest.mark.parametrize("case", MODULES, ids=_ids)
def test_module_matches_torch_forward_and_grads(case):
    name, args = case
    gn_mod, t_mod = getattr(nn, name)(*args), getattr(tnn, name)(*args)
    if name == "RReLU":   # training draws random slopes: parity is for the eval slope
        gn_mod.eval()
        t_mod.eval()
    # NOTE: in-place modules on a leaf that needs grad are an error in torch; feed them a
    # fresh non-leaf by wrapping in `x * 1`.
    gn_seq = nn.Sequential(_Times1(), gn_mod)
    t_seq = tnn.Sequential(_TorchTimes1(), t_mod)
    check_module(gn_seq, t_seq, [_input()], atol=1e-5, rtol=1e-5)


class _Times1(nn.Module):
    def forward(self, x):
        return x * 1.0


class _TorchTimes1(tnn.Module):
    def forward(self, x):
        return x * 1.0


@pytest.mark.parametrize("case", MODULES, ids=_ids)
def test_repr_matches_torch(case):
    name, args = case
    assert repr(getattr(nn, name)(*args)) == repr(getattr(tnn, name)(*args))


FUNCTIONALS = [
    ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}), ("selu", {}),
    ("celu", {"alpha": 0.7}), ("glu", {"dim": 1}), ("softsign", {}), ("tanhshrink", {}),
    ("threshold", {"threshold": 0.3, "value": -2.0}), ("softmin", {"dim": 2}),
    ("softmin", {"dim": 0, "dtype": None}), ("hardshrink", {"lambd": 0.8}),
    ("softshrink", {"lambd": 0.8}), ("logsigmoid", {}),
    ("rrelu", {"lower": 0.2, "upper": 0.4, "training": False}),
]


@pytest.mark.parametrize("name, kwargs", FUNCTIONALS, ids=lambda v: str(v))
def test_functional_keywords_match_torch(name, kwargs):
    x = _input(1)
    assert_close(getattr(F, name)(to_gn(x), **kwargs), getattr(TF, name)(to_torch(x), **kwargs),
                 what=name)


def test_logsigmoid_stays_finite_far_out():
    x = np.array([-200.0, -30.0, 0.0, 30.0, 200.0], np.float32)
    out = np_of(F.logsigmoid(to_gn(x)))
    assert np.isfinite(out).all()
    assert_close(out, TF.logsigmoid(to_torch(x)), what="logsigmoid")


INPLACE = [("mish", {}), ("hardswish", {}), ("hardsigmoid", {}), ("selu", {}),
           ("celu", {"alpha": 2.0}), ("threshold", {"threshold": 0.0, "value": 5.0}),
           ("rrelu", {})]


@pytest.mark.parametrize("name, kwargs", INPLACE, ids=lambda v: str(v))
def test_inplace_writes_into_the_input(name, kwargs):
    x = _input(2)
    g, t = to_gn(x), to_torch(x)
    out = getattr(F, name)(g, inplace=True, **kwargs)
    getattr(TF, name)(t, inplace=True, **kwargs)
    assert out is g
    assert_close(g, t, what=name)


def test_inplace_in_a_compiled_step():
    def step(x):
        y = x * 1.0
        F.selu(y, inplace=True)
        return y

    x = _input(3)
    expected = TF.selu(to_torch(x))
    assert_close(graphnet.compile(step)(to_gn(x)), expected, what="compiled selu_")


def test_glu_rejects_an_odd_dimension():
    with pytest.raises(RuntimeError, match="dimension 1 is size 5"):
        F.glu(to_gn(np.zeros((2, 5), np.float32)), dim=1)


@pytest.mark.parametrize("name", ["softshrink"])   # torch 2.13's hardshrink takes it
def test_shrink_rejects_negative_lambd(name):
    message = r"lambda must be in range \[0, 3.40282e\+38\] for input dtype Float, but found -0.1"
    with pytest.raises(RuntimeError, match=message):
        getattr(F, name)(to_gn(np.zeros(3, np.float32)), lambd=-0.1)


def _check_rrelu_training(x: np.ndarray, out: np.ndarray, lower: float, upper: float):
    assert out.shape == x.shape
    pos, neg = x >= 0, x < 0
    np.testing.assert_array_equal(out[pos], x[pos])
    slopes = out[neg] / x[neg]
    assert ((slopes >= lower - 1e-6) & (slopes <= upper + 1e-6)).all()
    assert len(np.unique(np.round(slopes, 5))) > 10   # one draw per element, not one slope


def test_rrelu_training_draws_a_slope_per_element_in_range():
    x = _input(4, (64, 8))
    layer = nn.RReLU(0.1, 0.3)
    assert layer.training
    graphnet.manual_seed(0)
    first = np_of(layer(to_gn(x)))
    _check_rrelu_training(x, first, 0.1, 0.3)
    second = np_of(layer(to_gn(x)))
    assert not np.array_equal(first, second)   # fresh draws each call
    _check_rrelu_training(x, np_of(graphnet.compile(layer)(to_gn(x))), 0.1, 0.3)


def test_rrelu_training_gradient_is_the_drawn_slope():
    x = _input(5, (32, 4))
    g = to_gn(x, requires_grad=True)
    out = F.rrelu(g, 0.1, 0.3, training=True)
    out.sum().backward()
    grad, y = np_of(g.grad), np_of(out)
    neg = x < 0
    np.testing.assert_allclose(grad[neg], y[neg] / x[neg], rtol=1e-5)
    np.testing.assert_array_equal(grad[~neg], 1.0)
