"""Complex Python numbers (graphnet has no complex dtype), 0-d tensors in the scatter and
index families, repeat_interleave of a 0-d tensor, right-hand vector solves and index_fill's
tensor value: each against PyTorch 2.13, eagerly and compiled."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError


def both(fn):
    """fn(gn) eagerly and inside graphnet.compile."""
    return [fn(gn), gn.compile(lambda x: fn(gn))(gn.zeros(1))]


def _setitem(L):
    x = L.zeros(3)
    x[0] = 1j
    return x


# torch refuses these with a RuntimeError (or makes a complex tensor); graphnet refuses all
COMPLEX_CASES = {
    "setitem": _setitem,
    "where": lambda L: L.where(L.tensor([True, False]), L.zeros(2), 1j),
    "clamp": lambda L: L.clamp(L.zeros(2), 1j),
    "clamp_max": lambda L: L.zeros(2).clamp(max=1j),
    "lerp": lambda L: L.lerp(L.zeros(2), L.ones(2), 1j),
    "masked_fill": lambda L: L.zeros(2).masked_fill(L.tensor([True, False]), 1j),
    "fill_": lambda L: L.zeros(2).fill_(1j),
    "full": lambda L: L.full((2,), 1j),
    "full_like": lambda L: L.full_like(L.zeros(2), 1j),
    "scalar_tensor": lambda L: L.scalar_tensor(1j),
    "index_fill": lambda L: L.zeros(3).index_fill(0, L.tensor([0]), 1j),
    "numpy_complex": lambda L: L.clamp(L.zeros(2), np.complex128(1j)),
    "tensor": lambda L: L.tensor([1.0, 1j]),
    "tensor_0d": lambda L: L.tensor(1j),
    "as_tensor_ndarray": lambda L: L.as_tensor(np.array([1j])),
    "mul": lambda L: L.zeros(2) * 1j,
}


@pytest.mark.parametrize("name", sorted(COMPLEX_CASES))
def test_complex_number_refused(name):
    fn = COMPLEX_CASES[name]
    if name != "numpy_complex":   # NOTE: torch drops a NumPy complex's imaginary part (a warning)
        try:
            made = fn(torch)
            assert made.dtype.is_complex   # torch made a complex tensor: graphnet has none
        except (RuntimeError, TypeError):
            pass
    for run in (lambda: fn(gn), lambda: gn.compile(lambda x: fn(gn))(gn.zeros(1))):
        with pytest.raises((RuntimeError, TypeError), match="no complex dtype") as err:
            run()
        # both types: torch's RuntimeError where it refuses, graphnet's TypeError elsewhere
        assert isinstance(err.value, RuntimeError) and isinstance(err.value, TypeError)


@pytest.mark.parametrize("number", [1j, 2 + 0j, complex(1, float("nan"))])
@pytest.mark.parametrize("op", ["eq", "ne"])
def test_eq_ne_with_complex_number_match_torch(op, number):
    data = [0.0, 1.0, 2.0, float("nan")]
    want = getattr(torch, op)(torch.tensor(data), number).tolist()
    for got in both(lambda L: getattr(L, op)(L.tensor(data), number)):
        assert got.tolist() == want


def test_real_numbers_still_work():
    want = torch.clamp(torch.tensor([-1.0, 3.0]), np.float64(0.5), 2).tolist()
    for got in both(lambda L: L.clamp(L.tensor([-1.0, 3.0]), np.float64(0.5), 2)):
        assert got.tolist() == want and got.dtype == gn.float32


SCALAR_CASES = {
    "scatter": lambda L: L.tensor(3.5).scatter(0, L.tensor(0), 2.0),
    "scatter_src": lambda L: L.tensor(3.5).scatter(-1, L.tensor(0), L.tensor(2.0)),
    "scatter_1d_index": lambda L: L.tensor(3.5).scatter(0, L.tensor([0]), L.tensor([2.0])),
    "scatter_add": lambda L: L.tensor(3.5).scatter_add(0, L.tensor(0), L.tensor(2.0)),
    "scatter_reduce": lambda L: L.tensor(3.5).scatter_reduce(0, L.tensor(0), L.tensor(2.0),
                                                             "amax"),
    "scatter_reduce_sum": lambda L: L.tensor(3.5).scatter_reduce(0, L.tensor(0),
                                                                 L.tensor(2.0), "sum"),
    "gather": lambda L: L.tensor(3.5).gather(0, L.tensor(0)),
    "index_select": lambda L: L.tensor(3.5).index_select(0, L.tensor(0)),
    "index_add": lambda L: L.tensor(3.5).index_add(0, L.tensor(0), L.tensor(2.0)),
    "index_copy": lambda L: L.tensor(3.5).index_copy(0, L.tensor(0), L.tensor(2.0)),
    "index_fill": lambda L: L.tensor(3.5).index_fill(0, L.tensor(0), 2.0),
}


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_zero_dim_input_matches_torch(name):
    want = SCALAR_CASES[name](torch)
    for got in both(SCALAR_CASES[name]):
        assert got.shape == tuple(want.shape) and got.tolist() == want.tolist()


def test_zero_dim_scatter_out_of_range_and_grad():
    with pytest.raises(RuntimeError) as want:
        torch.tensor(3.5).scatter(0, torch.tensor(1), 2.0)
    for run in (lambda: gn.tensor(3.5).scatter(0, gn.tensor(1), 2.0),
                lambda: both(lambda L: L.tensor(3.5).scatter(0, L.tensor(1), 2.0))):
        with pytest.raises(RuntimeError) as got:
            run()
        assert str(got.value) == str(want.value)
    x, s = gn.tensor(3.5, requires_grad=True), gn.tensor(2.0, requires_grad=True)
    tx, ts = torch.tensor(3.5, requires_grad=True), torch.tensor(2.0, requires_grad=True)
    (x.scatter_add(0, gn.tensor(0), s) * 3).backward()
    (tx.scatter_add(0, torch.tensor(0), ts) * 3).backward()
    assert (x.grad.item(), s.grad.item()) == (tx.grad.item(), ts.grad.item())


@pytest.mark.parametrize("repeats", ["int", "tensor1", "tensor0"])
@pytest.mark.parametrize("dim", [0, -1, 1, -2, None])
def test_repeat_interleave_zero_dim(repeats, dim):
    def fn(L):
        r = {"int": 2, "tensor1": L.tensor([2]), "tensor0": L.tensor(2)}[repeats]
        return L.tensor(3.5).repeat_interleave(r, dim)
    try:
        want = fn(torch).tolist()
    except IndexError as err:
        for run in (lambda: fn(gn), lambda: both(fn)):
            with pytest.raises(IndexError) as got:
                run()
            assert str(got.value) == str(err)
        return
    for got in both(fn):
        assert got.tolist() == want


@pytest.mark.parametrize("shapes", [((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((3, 3), (2,))])
def test_solve_right_vector_refused(shapes):
    a, b = shapes

    def fn(L):
        return L.linalg.solve(L.eye(3).expand(*a) * 2, L.ones(*b), left=False)
    with pytest.raises(RuntimeError) as want:
        fn(torch)
    for run in (lambda: fn(gn), lambda: both(fn)):
        with pytest.raises(RuntimeError) as got:
            run()
        assert str(got.value) == str(want.value)
    # the left vector case and the right matrix case still solve
    for L in (torch, gn):
        assert L.linalg.solve(L.eye(3) * 2, L.ones(3)).tolist() == [0.5] * 3
        assert L.linalg.solve(L.eye(3) * 2, L.ones(2, 3), left=False).tolist() == [[0.5] * 3] * 2


FILLS = [("int8", 300, "int64"), ("int8", -129, "int64"), ("int8", 300.0, "float64"),
         ("int8", float("nan"), "float64"), ("uint8", -129, "int64"), ("int8", 1.5, "float32"),
         ("int8", 127, "int64"), ("float32", 1e40, "float64"), ("float16", 1e40, "float64"),
         ("float32", float("inf"), "float32"), ("int8", True, "bool")]


@pytest.mark.parametrize("target,value,vdtype", FILLS)
def test_index_fill_tensor_value_fits_like_torch(target, value, vdtype):
    def fn(L):
        v = L.tensor(value, dtype=getattr(L, vdtype))
        return L.zeros(2, dtype=getattr(L, target)).index_fill(0, L.tensor([0]), v)
    try:
        want = fn(torch).tolist()
    except RuntimeError as err:
        for run in (lambda: fn(gn), lambda: both(fn)):
            with pytest.raises(RuntimeError) as got:
                run()
            assert str(got.value) == str(err)
        return
    for got in both(fn):
        assert str(got.tolist()) == str(want)


def test_index_fill_value_computed_in_compiled_code():
    x, i = gn.zeros(2, dtype=gn.int8), gn.tensor([0])
    fill = gn.compile(lambda x, v: x.index_fill(0, i, v * 1))
    # the program cannot check a wider value it computes: refused, with the way out
    with pytest.raises(TraceError, match=r"value.to\(graphnet.int8\)|value.to\(int8\)"):
        fill(x, gn.tensor(300))
    # a value of the tensor's own dtype always fits: no check, it compiles
    assert fill(x, gn.tensor(5, dtype=gn.int8)).tolist() == [5, 0]
