"""User mistakes at an op's inputs raise what PyTorch raises, with the fix; never a silent
result. Integer tensors cannot require grad; NumPy arrays, lists and raw JAX arrays are not
tensors; Python numbers still are accepted where PyTorch accepts them."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch

import graphnet
import graphnet.nn.functional as F
from graphnet import nn

# ---- integer tensors refuse requires_grad ---------------------------------------------------

# Each case builds the same thing in PyTorch and graphnet (`lib` is the module).
REFUSED = {
    "requires_grad_": lambda lib: lib.tensor([1, 2]).requires_grad_(),
    "tensor(requires_grad)": lambda lib: lib.tensor([1, 2], requires_grad=True),
    "bool tensor": lambda lib: lib.tensor([True, False], requires_grad=True),
    "zeros(long)": lambda lib: lib.zeros(3, dtype=lib.long, requires_grad=True),
    "ones(int32)": lambda lib: lib.ones(3, dtype=lib.int32, requires_grad=True),
    "full(int fill)": lambda lib: lib.full((3,), 2, requires_grad=True),
    "arange(ints)": lambda lib: lib.arange(3, requires_grad=True),
    "eye(long)": lambda lib: lib.eye(3, dtype=lib.long, requires_grad=True),
    "zeros_like(int)": lambda lib: lib.zeros_like(lib.tensor([1, 2]), requires_grad=True),
    "empty(long)": lambda lib: lib.empty(2, dtype=lib.long, requires_grad=True),
    "linspace(long)": lambda lib: lib.linspace(0, 4, 3, dtype=lib.long, requires_grad=True),
    "Parameter(int)": lambda lib: lib.nn.Parameter(lib.tensor([1, 2])),
    "cast then requires_grad_": lambda lib: lib.tensor([1.5]).long().requires_grad_(),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_integer_tensors_refuse_requires_grad_like_pytorch(case):
    with pytest.raises(RuntimeError) as expected:
        REFUSED[case](torch)
    with pytest.raises(RuntimeError) as got:
        REFUSED[case](graphnet)
    assert str(got.value).startswith(str(expected.value))   # then our hint


ALLOWED = {
    "requires_grad_(False)": lambda lib: lib.tensor([1, 2]).requires_grad_(False),
    "Parameter(int, requires_grad=False)":
        lambda lib: lib.nn.Parameter(lib.tensor([1, 2]), requires_grad=False),
    "arange(floats)": lambda lib: lib.arange(3.0, requires_grad=True),
    "float16": lambda lib: lib.tensor([1.0], dtype=lib.float16, requires_grad=True),
    "zeros": lambda lib: lib.zeros(2, requires_grad=True),
    "Tensor(ints).requires_grad_": lambda lib: lib.Tensor([1, 2]).requires_grad_(),
}


@pytest.mark.parametrize("case", sorted(ALLOWED))
def test_floating_point_tensors_still_require_grad(case):
    expected, got = ALLOWED[case](torch), ALLOWED[case](graphnet)
    assert got.requires_grad == expected.requires_grad
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(np.asarray(got.detach()), expected.detach().numpy())


def test_tensor_constructor_makes_float32_like_torch():
    assert graphnet.Tensor([1, 2]).dtype == graphnet.float32
    assert graphnet.Tensor(np.array([1, 2])).dtype == graphnet.float32
    assert graphnet.Tensor(graphnet.tensor([1, 2])).dtype == graphnet.int64   # a tensor: kept


def test_integer_results_never_require_grad():
    x = graphnet.tensor([1.5, -2.0], requires_grad=True)
    tx = torch.tensor([1.5, -2.0], requires_grad=True)
    assert x.long().requires_grad == tx.long().requires_grad == False  # noqa: E712
    assert x.long().grad_fn is None
    image = graphnet.randn(1, 1, 4, 4, requires_grad=True)
    out, indices = F.max_pool2d(image, 2, return_indices=True)
    assert out.requires_grad and not indices.requires_grad
    (x.long().float() * x).sum().backward()
    (tx.long().float() * tx).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist()


# ---- non-tensor inputs --------------------------------------------------------------------

NOT_TENSORS = {
    "Linear(numpy)": (lambda lib: lib.nn.Linear(3, 2)(np.ones((4, 3), np.float32)),
                      "linear", 1, "numpy.ndarray"),
    "relu(list)": (lambda lib: lib.nn.functional.relu([1.0, 2.0]), "relu", 1, "list"),
    "relu(numpy)": (lambda lib: lib.relu(np.ones(2, np.float32)), "relu", 1, "numpy.ndarray"),
    "add(tensor, numpy)": (lambda lib: lib.add(lib.ones(2), np.ones(2, np.float32)),
                           "add", 2, "numpy.ndarray"),
    "mse_loss(target numpy)": (
        lambda lib: lib.nn.functional.mse_loss(lib.ones(2), np.ones(2, np.float32)),
        "mse_loss", 2, "numpy.ndarray"),
    "linear(weight numpy)": (
        lambda lib: lib.nn.functional.linear(lib.ones(2), np.ones((2, 2), np.float32)),
        "linear", 2, "numpy.ndarray"),
    "Sequential(ReLU first)(numpy)": (
        lambda lib: lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 2))(np.ones((2, 3))),
        "relu", 1, "numpy.ndarray"),
}


@pytest.mark.parametrize("case", sorted(NOT_TENSORS))
def test_non_tensor_inputs_raise_type_error_like_pytorch(case):
    build, op, position, kind = NOT_TENSORS[case]
    with pytest.raises(TypeError):
        build(torch)
    with pytest.raises(TypeError) as got:
        build(graphnet)
    message = str(got.value)
    assert f"{op}(): argument at position {position} must be a Tensor, not {kind}" in message
    assert "graphnet.as_tensor(x)" in message and "graphnet.tensor(x)" in message


def test_an_operator_with_a_list_is_pythons_type_error_as_in_pytorch():
    # the operator returns NotImplemented, as PyTorch's, so Python raises (and a class's own
    # reflected method gets its turn first)
    messages = []
    for lib in (torch, graphnet):
        with pytest.raises(TypeError) as got:
            lib.ones(2) + [1.0, 2.0]
        messages.append(str(got.value).replace("torch", "").replace("graphnet", ""))
    assert messages[0] == messages[1]


# NOTE: these read `.shape` / `.dim()` / `.dtype` of the input in Python before the op runs,
# so a list fails there with AttributeError, not with the TypeError above. Each needs the
# same check at its top (graphnet._dispatch.non_tensor_error); strict xfail: remove when done.
BEFORE_DISPATCH = {
    "Conv2d(numpy)": lambda lib: lib.nn.Conv2d(3, 2, 1)(np.ones((1, 3, 4, 4))),  # nn/_conv.py
    "sum(numpy)": lambda lib: lib.sum(np.ones(3)),                        # _math.py
}


@pytest.mark.xfail(strict=True, raises=AttributeError,
                   reason="the module/function reads the input before dispatch checks it")
@pytest.mark.parametrize("case", sorted(BEFORE_DISPATCH))
def test_non_tensor_inputs_checked_before_dispatch(case):
    with pytest.raises(TypeError):
        BEFORE_DISPATCH[case](torch)
    with pytest.raises(TypeError, match="must be a Tensor"):
        BEFORE_DISPATCH[case](graphnet)


def test_linear_refuses_a_list_before_reading_its_shape():
    with pytest.raises(TypeError):
        torch.nn.Linear(3, 2)([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="must be a Tensor"):
        graphnet.nn.Linear(3, 2)([[1.0, 2.0, 3.0]])


def test_raw_jax_array_is_not_a_tensor():
    with pytest.raises(TypeError, match=r"mul\(\): argument at position 2 must be a Tensor, "
                                        r"not jax.Array of shape \[2\]"):
        graphnet.ones(2) * jnp.ones(2)


def test_error_names_the_module_it_happened_in():
    model = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(TypeError, match=r"^0: relu\(\): argument at position 1 must be a "
                                        r"Tensor, not numpy.ndarray of shape \[2, 3\]"):
        model(np.ones((2, 3), np.float32))


def test_wrapping_is_the_fix():
    layer = nn.Linear(3, 2)
    out = layer(graphnet.as_tensor(np.ones((4, 3), np.float32)))
    assert out.shape == (4, 2)


def test_shared_error_function():
    from graphnet._dispatch import non_tensor_error

    err = non_tensor_error("conv", 0, np.zeros((1, 3, 8, 8), np.float32))
    assert isinstance(err, TypeError)
    assert str(err).startswith("conv(): argument at position 1 must be a Tensor, not "
                               "numpy.ndarray of shape [1, 3, 8, 8] and dtype float32.")


NUMBERS = {
    "x + 1": lambda lib, x: x + 1,
    "1 - x": lambda lib, x: 1 - x,
    "x * 2.5": lambda lib, x: x * 2.5,
    "x / 2": lambda lib, x: x / 2,
    "clamp(x, 0, 1)": lambda lib, x: lib.clamp(x, 0, 1),
    "clamp(x, min=0.5)": lambda lib, x: lib.clamp(x, min=0.5),
    "x + np.float32(2)": lambda lib, x: x + np.float32(2),
    "where(x > 0, x, 0.0)": lambda lib, x: lib.where(x > 0, x, 0.0),
    "x ** 2": lambda lib, x: x ** 2,
    "x > 0.5": lambda lib, x: x > 0.5,
    "leaky_relu(x, 0.1)": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    "x[0] = 5": lambda lib, x: (x.__setitem__(0, 5.0), x)[1],
}


@pytest.mark.parametrize("case", sorted(NUMBERS))
def test_python_numbers_are_still_accepted(case):
    values = [-1.0, 0.25, 2.0]
    expected = NUMBERS[case](torch, torch.tensor(values))
    got = NUMBERS[case](graphnet, graphnet.tensor(values))
    np.testing.assert_allclose(np.asarray(got), expected.numpy(), rtol=1e-6)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
