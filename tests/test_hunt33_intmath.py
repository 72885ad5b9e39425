"""Integer einsum and empty integer division (thirty-third session's integer hunt): an einsum
label that only one operand holds is summed in int64, as PyTorch's `sum()` does (graphnet
kept int8 and wrapped at 127), bool einsums that only multiply are taken, and an empty
integer tensor divided by zero is empty, not a ZeroDivisionError."""

import numpy as np
import pytest
import torch

import graphnet as gn

_EQUATIONS = [
    ("ij->i", (3, 100)), ("ij,i->i", (3, 100), (3,)), ("ij,ij->i", (3, 4), (3, 4)),
    ("i,i->", (3,), (3,)), ("ij,jk->ik", (2, 3), (3, 4)), ("ij,kj->", (2, 3), (4, 3)),
    ("i,j->", (2,), (3,)), ("ij,k->ik", (2, 3), (4,)), ("ii->i", (3, 3)), ("ii", (40, 40)),
    ("ij,jk->ik", (2, 1), (1, 4)), ("...j->...", (2, 90)), ("i,i,i->", (3,), (3,), (3,)),
    ("ij->i", (3, 1)), ("ij,k->i", (3, 1), (1,)), ("ij->j", (300, 4)), ("ij", (3, 4)),
    ("...j,j", (2, 3), (3,)), ("bij->b", (2, 3, 40)), ("i...->", (2, 3, 40)),
    ("i,i->i", (5,), (5,)), ("ij,ij->ij", (2, 3), (2, 3)),
]


def _result(lib, equation, arrays, compile_=lambda f: f):
    try:
        out = compile_(lambda *a: lib.einsum(equation, *a))(*[lib.tensor(a) for a in arrays])
    except (RuntimeError, NotImplementedError) as error:
        return type(error).__name__
    return str(out.dtype).split(".")[-1], out.numpy().tolist()


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "bool"])
@pytest.mark.parametrize("case", _EQUATIONS, ids=lambda c: c[0])
def test_integer_einsum_dtype_and_values_as_torchs(case, dtype, compile_):
    equation, *shapes = case
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 2 if dtype == "bool" else 100, size=s).astype(dtype)
              for s in shapes]
    expected = _result(torch, equation, arrays)
    assert _result(gn, equation, arrays, compile_) == expected


def test_bool_contraction_still_refused_as_torch():
    a = gn.tensor([[True, False]])
    with pytest.raises(NotImplementedError, match="bmm"):
        gn.einsum("ij,jk->ik", a, a.T)


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
@pytest.mark.parametrize("call", [
    lambda L, x: x // 0, lambda L, x: x % 0, lambda L, x: L.fmod(x, 0),
    lambda L, x: x // L.tensor(0), lambda L, x: 5 // x,
    lambda L, x: L.remainder(x, L.zeros(0, dtype=L.int64)),
])
def test_empty_integer_division_by_zero_is_empty(call, compile_):
    out = compile_(lambda x: call(gn, x))(gn.zeros(0, dtype=gn.int64))
    assert out.shape == (0,) and out.dtype == gn.int64
    assert call(torch, torch.zeros(0, dtype=torch.int64)).shape == (0,)


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_nonempty_integer_division_by_zero_still_raises(compile_):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        compile_(lambda x: x // 0)(gn.ones(2, dtype=gn.int64))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        compile_(lambda x: x // gn.zeros(1, dtype=gn.int64))(gn.ones(2, dtype=gn.int64))
