"""Tensors made from tensors and NumPy numbers, and tensors handed back to Python, as
PyTorch does them, eagerly and compiled: `as_tensor(t, dtype)` keeps the graph,
`tensor(t)` is a detached copy (with PyTorch's warning), the legacy `Tensor(t)` an alias
that keeps the gradient, NumPy numbers count as Python numbers, `x in t`, `numpy(force=)`,
`float(t)` of many elements, pickled non-leaves, `pow` with a NumPy or bool exponent and
`a @= b`. Before, each of these gave another dtype, another value, a cut gradient or an
unrelated error."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from parity import torch

import graphnet

COPY_WARNING = "To copy construct from a tensor"


def _same(got, want) -> None:
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.detach().float().numpy(), want.detach().float().numpy())


def _leaf(lib):
    return lib.tensor([1.0, 2.0, 3.0], requires_grad=True)


def test_as_tensor_with_another_dtype_keeps_the_graph():
    grads = []
    for lib in (torch, graphnet):
        x = _leaf(lib)
        y = lib.as_tensor(x, dtype=lib.float64)
        assert type(y.grad_fn).__name__ == "ToCopyBackward0" and y.requires_grad
        (y * y).sum().backward()
        grads.append(x.grad)
    _same(grads[1], grads[0])


def test_as_tensor_with_another_dtype_compiles_and_keeps_the_gradient():
    x = _leaf(graphnet)

    @graphnet.compile
    def step(x):
        loss = (graphnet.as_tensor(x, dtype=graphnet.float64) ** 2).sum()
        loss.backward()
        return loss

    loss = step(x)
    assert loss.item() == 14.0 and loss.dtype == graphnet.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_tensor_of_a_tensor_is_a_detached_copy_with_torchs_warning():
    for lib in (torch, graphnet):
        x = _leaf(lib)
        with pytest.warns(UserWarning, match=COPY_WARNING):
            y = lib.tensor(x, dtype=lib.float64)
        assert y.is_leaf and not y.requires_grad and y.dtype == lib.float64


def test_tensor_of_a_traced_tensor_is_a_detached_copy():
    # before: "a tensor from another trace was used here"
    x = _leaf(graphnet)

    @graphnet.compile
    def step(x):
        copy = graphnet.tensor(x, dtype=graphnet.float64)
        (x * copy).sum().backward()   # the copy carries no gradient: d/dx is the copy
        return copy + 1

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = step(x)
    np.testing.assert_array_equal(out.numpy(), [2.0, 3.0, 4.0])
    assert out.dtype == graphnet.float64 and not out.requires_grad
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_legacy_tensor_constructor_keeps_the_gradient():
    grads = []
    for lib in (torch, graphnet):
        x = _leaf(lib)
        alias = lib.Tensor(x)
        assert alias.requires_grad and type(alias.grad_fn).__name__ == "AliasBackward0"
        (alias * 3).sum().backward()
        grads.append(x.grad)
        shared = lib.tensor([1, 2])
        lib.Tensor(shared).add_(1)    # still t's storage
        assert shared.tolist() == [2, 3]
    _same(grads[1], grads[0])


NUMPY_NUMBER_CALLS = {
    "arange(np.float32)": lambda T, x: T.arange(np.float32(0.5), 3),
    "arange(np.bool_)": lambda T, x: T.arange(np.bool_(True)),
    "full(np.int64)": lambda T, x: T.full((2,), np.int64(7)),
    "full(np.bool_)": lambda T, x: T.full((2,), np.bool_(True)),
    "clamp(int, np.float32)": lambda T, x: T.clamp(x, np.float32(1.5)),
    "clamp(int, max=np.int64)": lambda T, x: T.clamp(x, max=np.int64(2)),
    "where(int, np.float32)": lambda T, x: T.where(x > 1, x, np.float32(2.5)),
    "where(int, np.bool_)": lambda T, x: T.where(x > 1, x, np.bool_(True)),
    "linspace(np numbers)": lambda T, x: T.linspace(np.float32(0), np.int64(3), 4),
    "pow(int, np.int64)": lambda T, x: T.pow(x, np.int64(2)),
    "2.5 ** bool": lambda T, x: 2.5 ** (x > 1),
    "2 ** bool": lambda T, x: 2 ** (x > 1),
    "np.float64 ** bool": lambda T, x: np.float64(2.5) ** (x > 1),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(NUMPY_NUMBER_CALLS))
def test_numpy_numbers_act_as_python_numbers(name, compiled):
    call = NUMPY_NUMBER_CALLS[name]
    want = call(torch, torch.tensor([1, 2, 3]))
    run = graphnet.compile(lambda x: call(graphnet, x)) if compiled else \
        (lambda x: call(graphnet, x))
    _same(run(graphnet.tensor([1, 2, 3])), want)


@pytest.mark.parametrize("call", [
    lambda T: T.pow(T.tensor([1, 2]), np.int64(-1)),
    lambda T: T.tensor([1, 2]) ** np.int64(-1),
    lambda T: True ** T.tensor([True, False]),
    lambda T: T.tensor([True]) ** T.tensor([True, False]),
])
def test_pow_refusals_match_torch(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value), match=str(want.value).replace(".", r"\.")):
        call(graphnet)


def test_contains_compares_elements():
    for lib in (torch, graphnet):
        t = lib.tensor([[1, 2], [3, 4]])
        assert (2 in t, 7 in t, 2.0 in t, np.int64(3) in t) == (True, False, True, True)
        assert lib.tensor([1, 2]) in t and lib.tensor([5]) not in t
        with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
            "a" in t   # noqa: B015


def test_numpy_force_takes_values_from_a_tensor_requiring_grad():
    for lib in (torch, graphnet):
        x = _leaf(lib)
        np.testing.assert_array_equal(x.numpy(force=True), [1.0, 2.0, 3.0])
        with pytest.raises(RuntimeError, match="Can't call numpy"):
            x.numpy()


@pytest.mark.parametrize("convert", [float, int, complex])
def test_python_number_of_many_elements_raises_torchs_value_error(convert):
    for lib in (torch, graphnet):
        with pytest.raises(ValueError, match="only one element tensors"):
            convert(lib.tensor([1.0, 2.0]))
        with pytest.raises(ValueError, match="only one element tensors"):
            convert(lib.tensor([]))
        assert convert(lib.tensor([[2.5]])) == convert(2.5)
    with pytest.raises(ValueError, match="only one element tensors"):
        graphnet.compile(lambda x: convert(x))(graphnet.ones(2))


def test_pickled_non_leaf_comes_back_a_leaf_requiring_grad():
    for lib in (torch, graphnet):
        x = _leaf(lib)
        for t in (x * 2, (x * 2)[1:]):
            back = pickle.loads(pickle.dumps(t))
            assert back.is_leaf and back.requires_grad and back.grad_fn is None
            _same(back, t)


def test_matmul_assignment_rebinds():
    for lib in (torch, graphnet):
        a = lib.ones(2, 3)
        before = a
        a @= lib.ones(3, 4)
        assert tuple(a.shape) == (2, 4) and a is not before and tuple(before.shape) == (2, 3)
        square = lib.ones(2, 2)
        alias = square
        square @= lib.ones(2, 2) * 2
        assert alias.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_numpy_bool_in_arithmetic_reads_as_a_float_as_in_torch():
    ops = [lambda t: t + np.True_, lambda t: t * np.False_, lambda t: t.bool() + np.True_,
           lambda t: t == np.True_, lambda t: t - np.int64(1), lambda t: t * np.float64(2.0)]
    for op in ops:
        want = op(torch.tensor([1, 2]))
        got = op(graphnet.tensor([1, 2]))
        assert str(got.dtype)[9:] == str(want.dtype)[6:]
        np.testing.assert_array_equal(got.numpy(), want.numpy())
