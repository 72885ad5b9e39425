"""Version counters and PyTorch's "modified by an inplace operation" error, eager and compiled,
and the warning for `.grad` of a non-leaf tensor; every case is run in PyTorch too."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as gn

LEAD = "one of the variables needed for gradient computation has been modified by an inplace"


def _run(lib, program):
    """`program(lib)` -> the gradient as a NumPy array, or the exception it raised."""
    try:
        return np.asarray(program(lib).detach().numpy())
    except RuntimeError as err:
        return err


def _leaf_written_under_no_grad(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * a
    with lib.no_grad():
        a.mul_(3)
    b.sum().backward()
    return a.grad


def _non_leaf_written(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    b = a * a
    a.mul_(3)
    b.sum().backward()
    return x.grad


def _saved_output_written(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = x.exp()
    b.add_(1)
    b.sum().backward()
    return x.grad


def _pow_input_written_under_no_grad(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x ** 2).sum()
    with lib.no_grad():
        x.mul_(10)
    y.backward()
    return x.grad


def _optimizer_step_before_backward(lib):
    p = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
    opt = lib.optim.SGD([p], lr=0.1)
    y = (p * p).sum()
    p.grad = lib.ones(3)
    opt.step()
    y.backward()
    return p.grad


def _view_of_written_tensor(lib):
    x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    h = x * 1
    v = h[0]
    y = (v * v).sum()
    h.mul_(2)
    y.backward()
    return x.grad


RAISES = [_leaf_written_under_no_grad, _non_leaf_written, _saved_output_written,
          _pow_input_written_under_no_grad, _optimizer_step_before_backward,
          _view_of_written_tensor]


@pytest.mark.parametrize("program", RAISES, ids=lambda f: f.__name__)
def test_backward_after_inplace_write_raises_as_torch(program):
    expected, got = _run(torch, program), _run(gn, program)
    assert isinstance(expected, RuntimeError) and LEAD in str(expected)
    assert isinstance(got, RuntimeError), got
    assert LEAD in str(got)


def _written_before_and_after_forward(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with lib.no_grad():
        x.add_(1)
    y = (x * x).sum()
    with lib.no_grad():
        x.add_(1)
    y.backward()
    return x.grad


def test_message_names_tensor_and_versions():
    for program in (_leaf_written_under_no_grad, _saved_output_written,
                    _written_before_and_after_forward):
        expected, got = str(_run(torch, program)), str(_run(gn, program))
        head = expected.split(" Hint:")[0]
        assert got.startswith(head), (got, head)


def _unread_input_written(lib):          # `x + 1` saves nothing: no error
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x + 1).sum()
    with lib.no_grad():
        x.mul_(10)
    y.backward()
    return x.grad


def _written_through_data(lib):          # `.data` keeps the version; backward reads new values
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    x.data.mul_(10)
    y.backward()
    return x.grad


def _own_inplace_op_on_non_leaf(lib):    # the in-place op's own backward reads its old input
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = x * 1
    h.mul_(w)
    h.pow_(2)
    h.sum().backward()
    return x.grad + w.grad


def _inplace_relu_then_linear(lib):      # nn.ReLU(inplace=True) in a model
    lib.manual_seed(0)
    x = lib.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    h = lib.nn.functional.relu(x * 2, inplace=True)
    h = lib.nn.functional.dropout(h, 0.0, inplace=True)
    (h * h).sum().backward()
    return x.grad


def _write_after_backward(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with lib.no_grad():
        x.mul_(2)
    (x * x).sum().backward()
    return x.grad


WORKS = [_unread_input_written, _written_through_data, _own_inplace_op_on_non_leaf,
         _inplace_relu_then_linear, _write_after_backward]


@pytest.mark.parametrize("program", WORKS, ids=lambda f: f.__name__)
def test_allowed_writes_give_torch_gradients(program):
    expected, got = _run(torch, program), _run(gn, program)
    assert isinstance(expected, np.ndarray), expected
    assert isinstance(got, np.ndarray), got
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_version_counts_inplace_writes_not_data():
    for lib in (torch, gn):
        x = lib.tensor([1.0, 2.0])
        assert x._version == 0
        x.add_(1)
        x.mul_(2)
        assert x._version == 2
        x.data.mul_(2)            # `.data` has a counter of its own
        x.data = lib.tensor([5.0, 6.0])
        assert x._version == 2, lib
        y = x * 1
        assert y._version == 0


def test_saved_output_written_through_data_raises_clearly():
    # PyTorch reads the new output values; graphnet's backward cannot: a clear error
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = x.exp()
    y = b.sum()
    b.data.add_(1)
    with pytest.raises(RuntimeError, match="ExpBackward0: its output 0.*written through"):
        y.backward()


def test_detach_alias_marked_as_sharing_version_raises():
    # PyTorch's detach() shares the version counter: a write through it bumps `x`
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    alias = x.detach()
    alias.__dict__["_shares_version"] = True
    alias.mul_(10)
    assert x._version == 1
    with pytest.raises(RuntimeError, match=LEAD):
        y.backward()


def test_create_graph_checks_too():
    for lib in (torch, gn):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            x.mul_(2)
        with pytest.raises(RuntimeError, match=LEAD):
            lib.autograd.grad(y, x, create_graph=True)


# ---- `.grad` of a non-leaf ----------------------------------------------------------------

def _grad_warnings(lib, retain: bool):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    if retain:
        h.retain_grad()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grad = h.grad
        _ = x.grad
    return grad, [(w.category, str(w.message)[:80]) for w in caught]


@pytest.mark.parametrize("retain", [False, True])
def test_non_leaf_grad_warns_as_torch(retain):
    expected_grad, expected = _grad_warnings(torch, retain)
    got_grad, got = _grad_warnings(gn, retain)
    assert got == expected
    assert got_grad is None and expected_grad is None
    if not retain:
        assert got[0][0] is UserWarning and got[0][1].startswith("The .grad attribute of a "
                                                                 "Tensor that is not a leaf")


# ---- compiled ----------------------------------------------------------------------------

def _non_leaf_written_step(lib, x):
    a = x * 1
    b = a * a
    a.mul_(3)
    b.sum().backward()
    return x.grad


def _saved_output_written_step(lib, x):
    b = x.exp()
    b.add_(1)
    b.sum().backward()
    return x.grad


def _leaf_written_step(lib, a):
    b = a * a
    with lib.no_grad():
        a.mul_(3)
    b.sum().backward()


def _written_before_grad(lib, a):
    h = a * 3
    y = (h.sin()).sum()
    h.add_(1)
    return lib.autograd.grad(y, a)


@pytest.mark.parametrize("step", [_non_leaf_written_step, _saved_output_written_step,
                                  _leaf_written_step, _written_before_grad],
                         ids=lambda f: f.__name__)
def test_compiled_backward_after_inplace_write_raises_as_torch(step):
    with pytest.raises(RuntimeError, match=LEAD):
        step(torch, torch.tensor([1.0, 2.0, 3.0], requires_grad=True))
    with pytest.raises(RuntimeError, match=LEAD):
        step(gn, gn.tensor([1.0, 2.0, 3.0], requires_grad=True))     # eager: raises
    compiled = gn.compile(lambda x: step(gn, x))
    with pytest.raises(RuntimeError, match=LEAD):
        compiled(gn.tensor([1.0, 2.0, 3.0], requires_grad=True))


def test_compiled_write_the_backward_does_not_read_is_allowed():
    """`h + h` saves nothing: torch's backward runs, and so do eager and compiled graphnet."""
    def step(lib, a):
        h = a * 3
        y = h + h
        h.add_(100)
        y.sum().backward()
        return a.grad
    expected = step(torch, torch.tensor([1.0, 2.0], requires_grad=True))
    for run in (lambda x: step(gn, x), gn.compile(lambda x: step(gn, x))):
        got = run(gn.tensor([1.0, 2.0], requires_grad=True))
        assert got.tolist() == expected.tolist()
