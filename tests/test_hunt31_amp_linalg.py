"""Autocast and linear-algebra cases from the thirty-first session's hunt (torch 2.13 as the
reference)."""

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("shape,layer", [((3, 8), "ReflectionPad1d"), ((2, 3, 8), "ReflectionPad1d"),
                                         ((3, 6, 6), "ReflectionPad2d"),
                                         ((2, 3, 6, 6), "ReflectionPad2d"),
                                         ((3, 4, 4, 4), "ReflectionPad3d"),
                                         ((2, 3, 4, 4, 4), "ReflectionPad3d")])
def test_reflect_pad_under_autocast_takes_torchs_dtype(shape, layer):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    dtypes = []
    for lib in (torch, gn):
        with lib.autocast("cpu", dtype=lib.bfloat16):
            dtypes.append(str(getattr(lib.nn, layer)(1)(lib.tensor(x).bfloat16()).dtype)
                          .split(".")[-1])
    assert dtypes[0] == dtypes[1]


def test_torchs_float32_list_under_autocast():
    a = np.random.default_rng(1).standard_normal((4, 4)).astype(np.float32)
    spd = a @ a.T + 4 * np.eye(4, dtype=np.float32)
    low = np.tril(spd)
    for lib in (torch, gn):
        with lib.autocast("cpu", dtype=lib.bfloat16):
            got = [lib.trace(lib.tensor(a).bfloat16()),
                   lib.triangular_solve(lib.tensor(a).bfloat16(), lib.tensor(low).bfloat16(),
                                        upper=False)[0],
                   lib.linalg.inv_ex(lib.tensor(spd).bfloat16())[0],
                   lib.linalg.cholesky_ex(lib.tensor(spd).bfloat16())[0]]
        assert [str(t.dtype).split(".")[-1] for t in got] == ["float32"] * 4


@pytest.mark.parametrize("compiled", [False, True])
def test_svd_values_gradient_at_repeated_singular_values(compiled):
    def grad(lib, x):
        (lib.linalg.svd(x).S * lib.tensor([1., 2., 3.])).sum().backward()
        return x.grad

    expected = grad(torch, torch.eye(3, requires_grad=True))
    fn = (lambda x: grad(gn, x))
    got = (gn.compile(fn) if compiled else fn)(gn.eye(3, requires_grad=True))
    assert got.tolist() == expected.tolist()      # it was NaN eagerly


def test_eigh_takes_a_lowercase_uplo():
    a = np.array([[2., 100.], [1., 3.]], np.float32)
    for uplo in ("u", "l"):
        assert gn.linalg.eigvalsh(gn.tensor(a), UPLO=uplo).tolist() == pytest.approx(
            torch.linalg.eigvalsh(torch.tensor(a), UPLO=uplo).tolist(), rel=1e-6)


@pytest.mark.parametrize("equation", ["i1->i", "i_->i", "i-j->ij"])
def test_einsum_subscripts_are_letters(equation):
    for lib in (torch, gn):
        with pytest.raises(RuntimeError, match="subscripts must be in"):
            lib.einsum(equation, lib.ones(2, 2))
