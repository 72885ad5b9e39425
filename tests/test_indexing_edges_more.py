"""Indexing edges against PyTorch, dynamic and compiled: a traced 0-d integer index is a
select (a view), 0-d bool/uint8 tensors are masks, scatter_reduce's amax/amin gradient at
ties, a scalar multiplying scatter, masked_scatter of an empty source, bool index_put
accumulation, and PyTorch's error types for a few misuses."""

import warnings

import numpy as np
import pytest
import torch

import graphnet

X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)


def _modes(fn):
    """fn under graphnet, run eagerly and compiled."""
    return [("dynamic", fn), ("static", graphnet.compile(fn))]


def _close(got, want):
    got, want = np.asarray(got.detach().numpy()), np.asarray(want.detach().numpy())
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)


def _select_then_index(x, k, idx):
    return x[k, :, idx]


def _write_selected(x, k, idx, v):
    y = x * 1
    y[k, :, idx] = v
    return y


@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_a_traced_0d_index_is_a_select_beside_an_advanced_index(mode):
    idx = [0, 2]
    want = _select_then_index(torch.tensor(X), torch.tensor(1), torch.tensor(idx))
    fn = dict(_modes(_select_then_index))[mode]
    _close(fn(graphnet.tensor(X), graphnet.tensor(1), graphnet.tensor(idx)), want)
    value = np.arange(3 * 2 * 5, dtype=np.float32).reshape(3, 2, 5) * -1   # torch's layout
    want = _write_selected(torch.tensor(X), torch.tensor(-1), torch.tensor(idx),
                           torch.tensor(value))
    fn = dict(_modes(_write_selected))[mode]
    _close(fn(graphnet.tensor(X), graphnet.tensor(-1), graphnet.tensor(idx),
              graphnet.tensor(value)), want)


def test_an_index_computed_inside_the_compiled_function_is_a_select():
    def pick(x, idx):
        return x[x.sum((1, 2, 3)).argmax(), :, idx]

    want = pick(torch.tensor(X), torch.tensor([0, 1, 3]))
    _close(graphnet.compile(pick)(graphnet.tensor(X), graphnet.tensor([0, 1, 3])), want)


def _write_through(lib):
    def fn(x, k):
        y = x * 1
        y[k].add_(10)
        y[k][0] = -1
        z = y[k - 2]       # negative: counts from the end
        z += 5
        return y
    return fn


@pytest.mark.parametrize("k", [1, 0, -1])
def test_a_traced_0d_select_is_a_view_that_writes_back(k):
    x = X[0, :, :, 0]
    want = _write_through(torch)(torch.tensor(x), torch.tensor(k))
    for _, fn in _modes(_write_through(graphnet)):
        _close(fn(graphnet.tensor(x), graphnet.tensor(k)), want)


def test_a_traced_0d_index_out_of_range_raises_indexerror_on_the_call():
    compiled = graphnet.compile(lambda x, k: x[k])
    x = graphnet.tensor(X[0, 0])
    _close(compiled(x, graphnet.tensor(-4)), torch.tensor(X[0, 0])[-4])
    for k in (4, -5):
        with pytest.raises(IndexError, match=f"index {k} is out of bounds"):
            compiled(x, graphnet.tensor(k))


def test_the_gradient_through_a_traced_select_matches_torch():
    def grad(lib, x, k):
        x = lib.tensor(x, requires_grad=True)
        (x[k, 1:] * x[:, 0][k]).sum().backward()
        return x.grad

    def traced(x, k):
        (x[k, 1:] * x[:, 0][k]).sum().backward()
        return x.grad

    want = grad(torch, X[0, 0], torch.tensor(2))
    got = graphnet.compile(traced)(graphnet.tensor(X[0, 0], requires_grad=True),
                                   graphnet.tensor(2))
    _close(got, want)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_extremum_gradients_split_ties_as_torch(reduce, include_self):
    def run(lib, compiled=False):
        def fn(x, s):
            y = x.scatter_reduce(0, lib.tensor([0, 0, 1, 2, 2, 3]), s, reduce,
                                 include_self=include_self)
            (y * lib.tensor([1., 10., 100., 1000.])).sum().backward()
            return y, x.grad, s.grad
        x = lib.tensor([2., 0., 5., 1.], requires_grad=True)
        s = lib.tensor([2., 2., 1., 5., 5., 1.], requires_grad=True)
        return (graphnet.compile(fn) if compiled else fn)(x, s)

    want = run(torch)
    for compiled in (False, True):
        for got, expected in zip(run(graphnet, compiled), want):
            _close(got, expected)


def test_index_reduce_extremum_gradient_still_matches_torch():
    def run(lib):
        x = lib.tensor([1., 0.], requires_grad=True)
        s = lib.tensor([1., -1.], requires_grad=True)
        x.index_reduce(0, lib.tensor([0, 0]), s, "amax", include_self=False).sum().backward()
        return x.grad, s.grad

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch: index_reduce is in beta
        want = run(torch)
    for got, expected in zip(run(graphnet), want):
        _close(got, expected)


def _mask_cases(lib):
    x = lib.arange(12.).reshape(3, 4)
    return {"uint8 1": x[lib.tensor(1, dtype=lib.uint8)],
            "uint8 0": x[lib.tensor(0, dtype=lib.uint8)],
            "uint8 1, 1": x[lib.tensor(1, dtype=lib.uint8), 1],
            "True": x[lib.tensor(True)], "False": x[lib.tensor(False)],
            "True, 1": x[lib.tensor(True), 1]}


def _mask_writes(lib):
    out = {}
    for name, index in {"True": (lib.tensor(True),), "False": (lib.tensor(False),),
                        "True, 1": (lib.tensor(True), 1),
                        "uint8": (lib.tensor(1, dtype=lib.uint8),)}.items():
        x = lib.arange(12.).reshape(3, 4)
        x[index] = 5.0
        y = lib.arange(12.).reshape(3, 4)
        y[index] = lib.tensor([-1., -2., -3., -4.])
        out[name] = (x, y)
    return out


def test_0d_bool_and_byte_tensors_index_as_masks_without_a_warning():
    want = _mask_cases(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # torch gives no uint8 warning for a 0-d tensor
        for _, fn in _modes(lambda: _mask_cases(graphnet)):
            for name, got in fn().items():
                _close(got, want[name])
    want = _mask_writes(torch)
    for _, fn in _modes(lambda: _mask_writes(graphnet)):
        for name, pair in fn().items():
            for got, expected in zip(pair, want[name]):
                _close(got, expected)


FIXED_CRASHES = {
    "scatter multiply by a number": lambda L: L.arange(12.).reshape(3, 4).scatter(
        1, L.tensor([[1, 1], [0, 3]]), 2.5, reduce="multiply"),
    "scatter add a number": lambda L: L.arange(12.).reshape(3, 4).scatter(
        1, L.tensor([[1, 1], [0, 3]]), 2.5, reduce="add"),
    "masked_scatter of nothing": lambda L: L.ones(2, 2).masked_scatter(
        L.zeros(2, 2, dtype=L.bool), L.zeros(0)),
    "bool index_put accumulate": lambda L: L.zeros(5, dtype=L.bool).index_put(
        (L.tensor([1, 1, 3]),), L.tensor([True, True, False]), accumulate=True),
    "bool index_put accumulate, no True twice": lambda L: L.zeros(5, dtype=L.bool).index_put(
        (L.tensor([1, 1, 3]),), L.tensor([False, True, True]), accumulate=True),
}


@pytest.mark.parametrize("case", list(FIXED_CRASHES))
def test_cases_that_crashed_give_torchs_values(case):
    want = FIXED_CRASHES[case](torch)
    for _, fn in _modes(lambda: FIXED_CRASHES[case](graphnet)):
        got = fn()
        assert got.dtype.name == str(want.dtype).split(".")[-1]
        _close(got, want)


def test_an_index_into_an_empty_dimension_raises_indexerror_when_compiled():
    for lib, fn in [(torch, lambda x: x[:, :0][:, torch.tensor([0])])] + [
            (graphnet, f) for _, f in _modes(lambda x: x[:, :0][:, graphnet.tensor([0])])]:
        with pytest.raises(IndexError, match="index is out of bounds for dimension with size 0"):
            fn(lib.zeros(3, 4))


def _write_other_dtype(lib, index, value):
    x = lib.zeros(3, 4)
    x[index(lib)] = value(lib)
    return x


DTYPE_CASES = {
    "tensor index": (lambda L: L.tensor([1]), lambda L: L.ones(4, dtype=L.float64)),
    "0-d value": (lambda L: L.tensor([1]), lambda L: L.tensor(2., dtype=L.float64)),
    "list": (lambda L: [1, 2], lambda L: L.ones(4, dtype=L.float64)),
    "long value": (lambda L: (L.tensor([1]), slice(None)), lambda L: L.ones(4, dtype=L.long)),
    "mask, row": (lambda L: L.tensor([True, False, True]), lambda L: L.ones(4,
                                                                             dtype=L.float64)),
    "0-d select": (lambda L: L.tensor(1), lambda L: L.ones(4, dtype=L.float64)),
    "int": (lambda L: 1, lambda L: L.ones(4, dtype=L.float64)),
    "mask, 0-d value": (lambda L: L.tensor([True, False, True]),
                        lambda L: L.tensor(3., dtype=L.float64)),
}


@pytest.mark.parametrize("case", list(DTYPE_CASES))
def test_an_advanced_write_refuses_another_dtype_as_torch(case):
    index, value = DTYPE_CASES[case]
    try:
        want = _write_other_dtype(torch, index, value)
    except RuntimeError as error:
        assert "Index put requires the source and destination dtypes match" in str(error)
        with pytest.raises(RuntimeError, match=str(error).replace(".", r"\.")):
            _write_other_dtype(graphnet, index, value)
        return
    _close(_write_other_dtype(graphnet, index, value), want)


def test_nonzero_as_tuple_must_be_a_bool():
    for lib in (torch, graphnet):
        with pytest.raises(TypeError, match="argument 'as_tuple' must be bool, not int"):
            lib.ones(2).nonzero(as_tuple=1)
    got = graphnet.tensor([0., 2.]).nonzero(as_tuple=True)
    assert [t.tolist() for t in got] == [[1]]
