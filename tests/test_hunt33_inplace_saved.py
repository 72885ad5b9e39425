"""torch's "modified by an inplace operation" error where graphnet gave a gradient of the
overwritten values (thirty-third session's detection hunt): a compiled forward whose code
wrote a tensor an op inside had saved, with the backward outside the call; and eagerly, a
saved temporary written and then dropped (inside a helper), which the tape could no longer
check."""

import pytest
import torch

import graphnet as gn


def _clamp_view(L, x):
    y = x * 1.0
    y[:, 0::2] = y[:, 0::2].clamp(0, 10)   # clamp saved the view, then its base is written
    return y


def _masked_tanh(L, x):
    y = x.tanh()
    y[y < 0] = 0
    return y


def _helper_temporary(L, x):
    y = x * 2
    z = y * y           # saves y
    y.add_(1)           # y is dropped when the helper returns
    return z


_REFUSED = {
    "clamp_view": _clamp_view,
    "sigmoid_mul_": lambda L, x: x.sigmoid().mul_(2),
    "exp_iadd": lambda L, x: x.exp().add_(1),
    "masked_tanh": _masked_tanh,
    "helper_temporary": _helper_temporary,
    "relu_then_relu_": lambda L, x: L.nn.functional.relu(x).relu_(),
}

_ALLOWED = {
    "relu_inplace_after_matmul": lambda L, x: L.nn.functional.relu(x @ x.t(), inplace=True),
    "residual_iadd": lambda L, x: L.nn.functional.relu((x * 3).add_(x)),
    "sin_exp_chain": lambda L, x: (x * 1.0).sin_().exp_(),
    "written_after_but_unread": lambda L, x: (lambda y: (y * 2, y.mul_(3))[1])(x * 1.0),
}

_X = [[-1.0, 3.0, 12.0, 5.0], [2.0, -2.0, 4.0, 9.0]]


def _grad(L, f, compiled):
    x = L.tensor(_X, requires_grad=True)
    call = gn.compile(lambda x: f(L, x)) if compiled else (lambda x: f(L, x))
    call(x).sum().backward()
    return x.grad


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", sorted(_REFUSED))
def test_backward_through_an_overwritten_saved_tensor_raises_as_torch(name, compiled):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _grad(torch, _REFUSED[name], False)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _grad(gn, _REFUSED[name], compiled)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", sorted(_ALLOWED))
def test_in_place_writes_torch_allows_still_differentiate(name, compiled):
    expected = _grad(torch, _ALLOWED[name], False)
    assert torch.allclose(torch.tensor(_grad(gn, _ALLOWED[name], compiled).numpy()), expected)


def test_compiled_call_refuses_only_the_output_whose_gradient_reads_the_write():
    def f(x):
        y = x.exp()
        y.add_(1)           # exp's backward reads its output, now overwritten
        return x.sin(), y

    x = gn.tensor(_X, requires_grad=True)
    fine, bad = gn.compile(f)(x)
    fine.sum().backward()   # sin's path never meets the write
    assert torch.allclose(torch.tensor(x.grad.numpy()), torch.tensor(_X).cos())
    fine, bad = gn.compile(f)(x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (fine + bad).sum().backward()
