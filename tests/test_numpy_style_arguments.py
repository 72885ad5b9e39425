"""NumPy-style arguments, as PyTorch 2.13 takes them, eagerly and inside graphnet.compile:
`axis=` / `keepdims=` for `dim=` / `keepdim=` (graphnet/_numpy_compat.py), and a NumPy array
as an operator's operand (graphnet/_numpy_compat_arrays.py). Every case runs in PyTorch too."""

import inspect
import types
import warnings

import numpy as np
import pytest
import torch

import graphnet
from graphnet._numpy_compat import PYTHON_LEVEL

X = np.array([[0.5, -1.0, 2.0, 0.25], [3.0, 1.5, -2.5, 0.75], [1.0, 1.0, -0.5, 4.0]],
             np.float32)


def _np(value):
    if isinstance(value, (tuple, list)):
        return [_np(v) for v in value]
    if isinstance(value, (int, float, bool)):
        return value
    return np.asarray(value.detach().numpy() if isinstance(value, torch.Tensor) else value)


def _same(ours, theirs):
    ours, theirs = _np(ours), _np(theirs)
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    if not isinstance(theirs, np.ndarray):
        assert ours == theirs
        return
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def _both_modes(call, *arrays):
    """`call(lib, *tensors)` in PyTorch, and in graphnet eagerly and compiled: the same."""
    theirs = call(torch, *(torch.tensor(a) for a in arrays))
    ours = [graphnet.tensor(a) for a in arrays]
    _same(call(graphnet, *ours), theirs)
    _same(graphnet.compile(lambda *t: call(graphnet, *t))(*ours), theirs)


# ---- axis= and keepdims= --------------------------------------------------------------------

IDX = np.array([[0, 2], [1, 1], [3, 0]])
AXIS_CALLS = {
    "x.sum(axis)": lambda lib, x: x.sum(axis=0),
    "sum(axis, keepdims)": lambda lib, x: lib.sum(x, axis=1, keepdims=True),
    "x.mean(axis, keepdims)": lambda lib, x: x.mean(axis=1, keepdims=True),
    "mean(axis list)": lambda lib, x: lib.mean(x, axis=[0, 1]),
    "x.sum(1, keepdims)": lambda lib, x: x.sum(1, keepdims=True),
    "amax": lambda lib, x: x.amax(axis=1, keepdims=True),
    "amin": lambda lib, x: lib.amin(x, axis=0),
    "argmax": lambda lib, x: x.argmax(axis=1),
    "argmin": lambda lib, x: lib.argmin(x, axis=0, keepdims=True),
    "max(axis)": lambda lib, x: tuple(x.max(axis=1)),
    "min(axis, keepdims)": lambda lib, x: tuple(lib.min(x, axis=0, keepdims=True)),
    "std": lambda lib, x: x.std(axis=1, keepdims=True),
    "var": lambda lib, x: lib.var(x, axis=0),
    "var_mean": lambda lib, x: tuple(lib.var_mean(x, axis=1)),
    "prod": lambda lib, x: x.prod(axis=1),
    "all": lambda lib, x: (x > 0).all(axis=1),
    "any": lambda lib, x: lib.any(x > 3, axis=0, keepdims=True),
    "logsumexp": lambda lib, x: x.logsumexp(axis=1),
    "nansum": lambda lib, x: lib.nansum(x, axis=0),
    "median": lambda lib, x: tuple(x.median(axis=1)),
    "cumsum": lambda lib, x: x.cumsum(axis=1),
    "cumprod": lambda lib, x: lib.cumprod(x, axis=0),
    "softmax": lambda lib, x: lib.softmax(x, axis=1),
    "x.log_softmax": lambda lib, x: x.log_softmax(axis=0),
    "special.softmax": lambda lib, x: lib.special.softmax(x, axis=1),
    "cat": lambda lib, x: lib.cat([x, x], axis=1),
    "concatenate": lambda lib, x: lib.concatenate([x, x], axis=0),
    "stack": lambda lib, x: lib.stack([x, x], axis=2),
    "squeeze": lambda lib, x: x[None].squeeze(axis=0),
    "unsqueeze": lambda lib, x: lib.unsqueeze(x, axis=1),
    "gather": lambda lib, x: x.gather(axis=1, index=lib.tensor(IDX)),
    "index_select": lambda lib, x: lib.index_select(x, axis=1, index=lib.tensor([3, 0])),
    "sort": lambda lib, x: tuple(x.sort(axis=1)),
    "topk": lambda lib, x: tuple(x.topk(2, axis=0)),
    "unbind": lambda lib, x: x.unbind(axis=1),
    "chunk": lambda lib, x: lib.chunk(x, 2, axis=1),
    "narrow": lambda lib, x: x.narrow(axis=1, start=1, length=2),
    "select": lambda lib, x: x.select(axis=0, index=2),
    "diff": lambda lib, x: lib.diff(x, axis=1),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x > 1, axis=1),
    "size": lambda lib, x: x.size(axis=1),
    "linalg.vector_norm": lambda lib, x: lib.linalg.vector_norm(x, axis=1, keepdims=True),
    "cosine_similarity": lambda lib, x: lib.nn.functional.cosine_similarity(x, x + 1, axis=1),
    "pairwise_distance": lambda lib, x: lib.nn.functional.pairwise_distance(x, 2 * x,
                                                                            keepdims=True),
    "cumsum_": lambda lib, x: x.clone().cumsum_(axis=0),
    "index_add_": lambda lib, x: x.clone().index_add_(axis=0, index=lib.tensor([2]),
                                                      source=lib.ones(1, 4)),
}


@pytest.mark.parametrize("case", sorted(AXIS_CALLS))
def test_axis_and_keepdims_name_dim_and_keepdim(case):
    _both_modes(AXIS_CALLS[case], X)


REFUSED = {
    "dim and axis": lambda lib, x: x.sum(dim=0, axis=0),
    "positional dim and axis": lambda lib, x: lib.sum(x, 0, axis=1),
    "keepdim and keepdims": lambda lib, x: x.mean(1, keepdim=True, keepdims=True),
    "F.softmax (Python in torch)": lambda lib, x: lib.nn.functional.softmax(x, axis=1),
    "F.log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, axis=1),
    "x.norm": lambda lib, x: x.norm(axis=0),
    "x.split": lambda lib, x: x.split(1, axis=0),
    "torch.norm": lambda lib, x: lib.norm(x, axis=0),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_numpy_names_refused_where_pytorch_refuses_them(case):
    x = torch.tensor(X)
    with pytest.raises(TypeError, match="unexpected keyword argument '(axis|keepdims)'"):
        REFUSED[case](torch, x)
    with pytest.raises(TypeError, match="unexpected keyword argument '(axis|keepdims)'"):
        REFUSED[case](graphnet, graphnet.tensor(X))
    with pytest.raises(TypeError, match="unexpected keyword argument '(axis|keepdims)'"):
        graphnet.compile(lambda t: REFUSED[case](graphnet, t))(graphnet.tensor(X))


def _namespaces():
    return {"graphnet": (graphnet, torch), "Tensor": (graphnet.Tensor, torch.Tensor),
            "graphnet.nn.functional": (graphnet.nn.functional, torch.nn.functional),
            "graphnet.linalg": (graphnet.linalg, torch.linalg),
            "graphnet.special": (graphnet.special, torch.special)}


def test_every_public_function_with_dim_takes_numpy_names_unless_pytorch_refuses():
    """Guards the one mechanism: a new public function with a `dim`/`keepdim` parameter gets
    `axis=`/`keepdims=` too, and the names left out are PyTorch's Python-level functions."""
    missing = []
    for label, (ours, theirs) in _namespaces().items():
        for name in dir(ours):
            fn = getattr(ours, name)
            if name.startswith("_") or not isinstance(fn, types.FunctionType):
                continue
            params = inspect.signature(fn).parameters
            if not {"dim", "keepdim"} & set(params):
                continue
            if name in PYTHON_LEVEL.get(label, ()):
                assert isinstance(getattr(theirs, name), types.FunctionType), (label, name)
                continue
            if not getattr(fn, "__numpy_names__", False):
                missing.append(f"{label}.{name}")
    assert not missing


# ---- a NumPy array operand --------------------------------------------------------------------

T = np.array([1.5, -2.0, 3.0, 4.0], np.float32)
OPERANDS = {   # name -> (tensor data, array)
    "f32 with f32": (T, np.array([2.0, 0.5, -3.0, 1.5], np.float32)),
    "f32 with f64": (T, np.array([2.0, 0.5, -3.0, 1.5])),
    "f32 with 0-d f64": (T, np.array(0.5)),
    "f16 with f32": (T.astype(np.float16), np.array([2.0, 0.5, -3.0, 1.5], np.float32)),
    "i64 with i32": (np.array([5, -7, 9, 2]), np.array([3, 2, -4, 1], np.int32)),
    "i64 with f32": (np.array([5, -7, 9, 2]), np.array([2.0, 0.5, -3.0, 1.5], np.float32)),
    "i8 with u8": (np.array([5, -7, 9, 2], np.int8), np.array([3, 2, 4, 1], np.uint8)),
    "0-d f32 with f32": (np.array(2.5, np.float32), np.array([2.0, 0.5, -3.0, 1.5], np.float32)),
}
OPERATORS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
             "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
             "**": lambda a, b: a ** b, "==": lambda a, b: a == b}


def _torch_with_array(fn, *args):
    with warnings.catch_warnings():   # PyTorch's __array_wrap__: NumPy 2's deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args)


@pytest.mark.parametrize("operator", sorted(OPERATORS))
@pytest.mark.parametrize("case", sorted(OPERANDS))
def test_tensor_operator_numpy_array_computes_as_pytorch_does(case, operator):
    data, array = OPERANDS[case]
    fn = OPERATORS[operator]
    if operator == "**" and data.dtype.kind == "i" and array.dtype.kind in "iu":
        array = np.abs(array) % 3   # a negative integer power: test_unsupported_... below
    theirs = _torch_with_array(fn, torch.tensor(data), array)
    assert isinstance(theirs, torch.Tensor)
    _same(fn(graphnet.tensor(data), array), theirs)
    _same(graphnet.compile(lambda t: fn(t, array))(graphnet.tensor(data)), theirs)


MORE = {   # cases whose operands differ from OPERANDS
    "matmul": lambda t, a: t @ a.reshape(4, 1),
    "bool & bool: uint8": lambda t, a: (t > 0) & (a > 0),
    "bool + bool: uint8": lambda t, a: (t > 0) + (a > 0),
    "int ^ int": lambda t, a: t.long() ^ a.astype(np.int32),
    "int << int": lambda t, a: t.long().abs() << np.array([1, 2, 0, 3]),
    "int // zero": lambda t, a: t.long() // np.array([0, 2, 0, -3]),
    "int % zero": lambda t, a: t.long() % np.array([0, 2, 0, -3]),
    "array / tensor": lambda t, a: a / t,
    "int array / int tensor": lambda t, a: np.array([1, 2, 3, 4]) / t.long(),
    "array == tensor": lambda t, a: a == t,
    "broadcast": lambda t, a: t + a.reshape(4, 1),
    "in place rebinds": lambda t, a: _iadd(t, a),
}


def _iadd(t, a):
    before = t
    t += a.astype(np.float64)   # PyTorch: __iadd__ declines, so `t = t + a` (float64)
    assert t is not before
    return t


@pytest.mark.parametrize("case", sorted(MORE))
def test_more_numpy_operands_like_pytorch(case):
    fn, array = MORE[case], np.array([2.0, -0.5, 3.0, 1.5], np.float32)
    theirs = _torch_with_array(fn, torch.tensor(T), array)
    _same(fn(graphnet.tensor(T), array), theirs)
    _same(graphnet.compile(lambda t: fn(t, array))(graphnet.tensor(T)), theirs)


DECLINED = {   # PyTorch raises TypeError (Python's, or its function's)
    "array + tensor": lambda t, a: a + t, "array - tensor": lambda t, a: a - t,
    "array * tensor": lambda t, a: a * t, "array ** tensor": lambda t, a: a ** t,
    "array @ tensor": lambda t, a: a @ t, "tensor < array": lambda t, a: t < a,
    "array >= tensor": lambda t, a: a >= t, "float & array": lambda t, a: t & a,
    "add(t, a)": lambda t, a: type(t).add(t, a), "t.mul(a)": lambda t, a: t.mul(a),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_refused_numpy_operands_raise_type_error_like_pytorch(case):
    array = np.ones(4, np.float32)
    with pytest.raises(TypeError):
        _torch_with_array(DECLINED[case], torch.tensor(T), array)
    with pytest.raises(TypeError):
        DECLINED[case](graphnet.tensor(T), array)
    with pytest.raises(TypeError):
        graphnet.compile(lambda t: DECLINED[case](t, array))(graphnet.tensor(T))


def test_not_equal_to_an_array_is_python_identity_as_in_pytorch():
    array = T.copy()
    assert (torch.tensor(T) != array) is True and (array != torch.tensor(T)) is True
    assert (graphnet.tensor(T) != array) is True and (array != graphnet.tensor(T)) is True


def test_functions_refuse_an_array_and_say_operators_take_one():
    for call in (lambda lib: lib.add(lib.tensor(T), T), lambda lib: lib.tensor(T).sub(T),
                 lambda lib: lib.where(lib.tensor(T) > 0, lib.tensor(T), T)):
        with pytest.raises(TypeError):
            call(torch)
        with pytest.raises(TypeError, match="must be a Tensor, not numpy.ndarray") as got:
            call(graphnet)
        assert "operator such as `tensor + array` takes a NumPy array" in str(got.value)


def test_a_tensor_that_requires_grad_refuses_an_array_operand_as_in_pytorch():
    message = r"Can't call numpy\(\) on Tensor that requires grad"
    for lib in (torch, graphnet):
        x = lib.tensor(T, requires_grad=True)
        with pytest.raises(RuntimeError, match=message):
            _torch_with_array(lambda: x * 2 + T)
        with pytest.raises(RuntimeError, match=message):
            _torch_with_array(lambda: T / x)
        assert bool((x == T).all())        # __eq__ converts the array instead
        with lib.no_grad():
            out = _torch_with_array(lambda: x + T)
        assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(RuntimeError, match=message):
        graphnet.compile(lambda t: t * 2 + T)(graphnet.tensor(T, requires_grad=True))


def test_numpy_errors_of_the_computation_are_raised():
    for lib in (torch, graphnet):
        with pytest.raises(ValueError, match="Integers to negative integer powers"):
            _torch_with_array(lambda: lib.tensor([2, 3]) ** np.array([-1, 2]))
        with pytest.raises(ValueError):   # NumPy's broadcast error; graphnet's ShapeError
            _torch_with_array(lambda: lib.ones(3) + np.ones(4, np.float32))


def test_unsupported_dtypes_raise_type_error():
    with pytest.raises(TypeError, match="BFloat16"):
        graphnet.tensor(T).bfloat16() + T
    with pytest.raises(TypeError, match="complex64"):
        graphnet.tensor(T) + T.astype(np.complex64)
    with pytest.raises(TypeError):
        graphnet.tensor(T) + np.array(["a", "b", "c", "d"])


def test_a_compiled_function_sees_the_array_it_reads_now():
    state = {"a": np.array([1.0, 2.0, 3.0, 4.0], np.float32)}
    step = graphnet.compile(lambda t: t * state["a"])
    x = graphnet.tensor(T)
    _same(step(x), T * state["a"])
    state["a"][0] = 10.0
    _same(step(x), T * state["a"])
    state["a"] = np.full(4, 0.5, np.float32)
    _same(step(x), T * state["a"])
