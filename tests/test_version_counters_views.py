"""A view shares its base's version counter, as in PyTorch: a backward that saved a view (even
a temporary one, `x[0] * x[1]`) raises "modified by an inplace operation" once the base or
another view of it was written; and a custom Function's `ctx.saved_tensors` raises when a
saved tensor was written after the forward. Eager and compiled, each against PyTorch."""

import numpy as np
import pytest
import torch

import graphnet as gn

LEAD = "one of the variables needed for gradient computation has been modified by an inplace"


def _temporary_views_then_setitem(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    z = x[0] * x[1]
    x[2] = 0.0
    z.backward()
    return w.grad


def _temporary_views_then_mul_(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    z = x[0] * x[1]
    x.mul_(0)
    z.backward()
    return w.grad


def _views_written_into_their_base(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 1
    y[0] = w[0]
    y[2] = y[0] * y[1]
    y.sum().backward()
    return w.grad


def _base_gone_before_backward(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def forward():
        x = w * 1
        z = x[:2].sin().sum()
        x.add_(1)
        return z     # `x` and its view are gone; the version counter is not

    forward().backward()
    return w.grad


def _other_view_written(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    x[0].add_(x[1].sin())
    x.sum().backward()
    return w.grad


def _view_written_by_its_own_op(lib):   # `x[0].sin_()` reads x[0] before its own write
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    x[0].sin_()
    x[:2].exp_()
    x.sum().backward()
    return w.grad


def _own_ops_then_another_write(lib):   # sin_'s backward keeps x before its own write
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    x.sin_()
    x.exp_()
    x.sum().backward()
    return w.grad


def _view_not_read_by_backward(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    z = (x[:2] * 2).sum()
    x.add_(1)
    z.backward()
    return w.grad


def _written_after_backward(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    (x[0] * x[1]).backward()
    x.add_(1)
    return w.grad


def _function(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    return Scale


def _function_input_written_before_backward(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    y = _function(lib).apply(x)
    x.mul_(3)
    y.sum().backward()
    return w.grad


def _function_view_input_written(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    y = _function(lib).apply(x[1])
    x.mul_(3)
    y.sum().backward()
    return w.grad


def _function_input_written_after_backward(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    _function(lib).apply(x).sum().backward()
    x.mul_(3)
    return w.grad


def _function_dirty_input(lib):   # written by the forward itself (mark_dirty): allowed
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    Double.apply(w * 1).sum().backward()
    return w.grad


PROGRAMS = [_temporary_views_then_setitem, _temporary_views_then_mul_,
            _views_written_into_their_base, _base_gone_before_backward, _other_view_written,
            _view_written_by_its_own_op, _own_ops_then_another_write,
            _view_not_read_by_backward, _written_after_backward,
            _function_input_written_before_backward, _function_view_input_written,
            _function_input_written_after_backward, _function_dirty_input]


def _run(program, lib, compiled=False):
    """The gradient as a NumPy array, or the RuntimeError raised."""
    run = gn.compile(lambda: program(lib)) if compiled else (lambda: program(lib))
    try:
        return np.asarray(run().detach().numpy())
    except RuntimeError as err:
        return err


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__.strip("_") for p in PROGRAMS])
def test_matches_torch(program, compiled):
    expected, got = _run(program, torch), _run(program, gn, compiled)
    if isinstance(expected, RuntimeError):
        assert isinstance(got, RuntimeError), f"torch raised {expected}; graphnet gave {got}"
        assert str(got).startswith(LEAD), got
        assert "is at version" in str(got) and "expected version" in str(got), got
    else:
        assert not isinstance(got, Exception), got
        np.testing.assert_allclose(got, expected.astype(np.float32), rtol=1e-6)


def test_view_shares_its_base_version():
    for lib in (torch, gn):
        base = lib.ones(3)
        view = base[0]
        base.add_(1)
        assert (view._version, base._version) == (1, 1), lib.__name__
        view.add_(1)
        assert (view._version, base._version) == (2, 2), lib.__name__
