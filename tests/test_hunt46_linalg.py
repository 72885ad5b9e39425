"""Linear algebra found wanting by a hunt: compiled vmap over linalg ops (a recompile crash,
refusals of ops that check nothing), norms and condition numbers of empty matrices, and
PyTorch's errors for float16/bfloat16 inputs instead of JAX's internals."""

import math

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError


def test_compiled_vmap_making_a_constant_recompiles_for_a_new_batch():
    def f(L):
        return lambda X: L.func.vmap(lambda x: x @ x.mT + L.eye(3, dtype=x.dtype))(X).sum((-2, -1))

    step = gn.compile(f(gn))
    rng = np.random.default_rng(0)
    for b in (4, 5, 4, 6):
        x = rng.standard_normal((b, 3, 3))
        np.testing.assert_allclose(step(gn.tensor(x)).numpy(), f(torch)(torch.tensor(x)).numpy(),
                                   rtol=1e-10)


def _per_sample(L):
    def f(x, y):
        C = x @ x.mT + L.eye(3, dtype=x.dtype)
        Lc, info = L.linalg.cholesky_ex(C)
        Ci, info2 = L.linalg.inv_ex(x)
        s, info3 = L.linalg.solve_ex(x, y)
        P, lower, upper = L.linalg.lu(x)
        z = L.linalg.lu_solve(*L.linalg.lu_factor(x), y[:, None])
        total = Lc.diagonal().log().sum() + Ci.sum() + s.sum() + (P @ lower).sum() + z.sum()
        return total + upper.sum(), info + info2 + info3
    return f


def test_compiled_vmap_of_linalg_ops_that_check_nothing():
    rng = np.random.default_rng(1)
    X, B = rng.standard_normal((4, 3, 3)) + 2 * np.eye(3), rng.standard_normal((4, 3))
    want = torch.func.vmap(_per_sample(torch))(torch.tensor(X), torch.tensor(B))
    run = gn.compile(lambda a, b: gn.func.vmap(_per_sample(gn))(a, b))
    got = run(gn.tensor(X), gn.tensor(B))
    np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-9)
    assert got[1].tolist() == want[1].tolist() == [0, 0, 0, 0]


def test_compiled_vmap_refuses_a_checked_matrix_it_computes_naming_it():
    run = gn.compile(lambda X: gn.func.vmap(
        lambda x: gn.linalg.cholesky(x @ x.mT + gn.eye(3, dtype=x.dtype)))(X))
    with pytest.raises(TraceError, match="reads a matrix whose values PyTorch checks .* "
                                         "Compute that matrix before the vmap") as info:
        run(gn.randn(2, 3, 3))
    assert "indices or labels" not in str(info.value)
    x = np.random.default_rng(2).standard_normal((2, 3, 3))
    a = x @ x.transpose(0, 2, 1) + np.eye(3)     # computed outside: checked per sample, runs
    ok = gn.compile(lambda A: gn.func.vmap(gn.linalg.cholesky)(A))(gn.tensor(a))
    np.testing.assert_allclose(ok.numpy(), np.linalg.cholesky(a), rtol=1e-10)


EMPTY = [
    (lambda T: T.linalg.matrix_norm(T.zeros(0, 3), ord=2)),
    (lambda T: T.linalg.matrix_norm(T.zeros(2, 3, 0), ord=2, keepdim=True)),
    (lambda T: T.linalg.norm(T.zeros(0, 3), 2)),
    (lambda T: T.linalg.matrix_norm(T.zeros(3, 0), ord=1)),
    (lambda T: T.linalg.matrix_norm(T.zeros(3, 0), ord=math.inf, keepdim=True)),
    (lambda T: T.linalg.matrix_norm(T.zeros(0, 3), ord=-2)),        # PyTorch raises
    (lambda T: T.linalg.cond(T.zeros(2, 0, 3))),
    (lambda T: T.linalg.cond(T.zeros(0, 0), p=1)),
    (lambda T: T.linalg.cond(T.zeros(3, 0), p="fro")),
    (lambda T: T.linalg.cond(T.zeros(2, 0, 0), p=-2)),
    (lambda T: T.linalg.cond(T.zeros(0, 2, 2))),
    (lambda T: T.linalg.cond(T.zeros(3), 1)),                       # PyTorch raises
    (lambda T: T.linalg.cond(T.eye(2), 3)),                         # PyTorch raises
    (lambda T: T.linalg.cond(T.zeros(2, 3), 1)),                    # PyTorch raises
]


@pytest.mark.parametrize("case", range(len(EMPTY)))
def test_empty_matrix_norms_and_condition_numbers(case):
    def outcome(T, compiled=False):
        fn = (lambda: gn.compile(lambda: EMPTY[case](gn))()) if compiled else \
            (lambda: EMPTY[case](T))
        try:
            r = fn()
            return tuple(r.shape), r.reshape(-1).tolist()
        except (RuntimeError, IndexError) as e:
            return type(e).__name__, str(e)

    want = outcome(torch)
    assert outcome(gn) == want
    if want[0] not in ("RuntimeError", "IndexError"):
        assert outcome(gn, compiled=True) == want


LOW = {
    "inv": lambda L, A: L.linalg.inv(A), "cholesky": lambda L, A: L.linalg.cholesky(A),
    "slogdet": lambda L, A: L.linalg.slogdet(A), "svd": lambda L, A: L.linalg.svd(A),
    "eigh": lambda L, A: L.linalg.eigh(A), "qr": lambda L, A: L.linalg.qr(A),
    "solve": lambda L, A: L.linalg.solve(A, A), "pinv": lambda L, A: L.linalg.pinv(A),
    "lstsq": lambda L, A: L.linalg.lstsq(A, A), "norm2": lambda L, A: L.linalg.matrix_norm(A, 2),
    "nuc": lambda L, A: L.linalg.matrix_norm(A, "nuc"),
    "power-1": lambda L, A: L.linalg.matrix_power(A, -1), "det": lambda L, A: L.linalg.det(A),
    "lu_factor": lambda L, A: L.linalg.lu_factor(A), "inv_ex": lambda L, A: L.linalg.inv_ex(A),
    "cholesky_ex": lambda L, A: L.linalg.cholesky_ex(A), "cond": lambda L, A: L.linalg.cond(A),
    "cond1": lambda L, A: L.linalg.cond(A, 1), "rank": lambda L, A: L.linalg.matrix_rank(A),
    "solve_triangular": lambda L, A: L.linalg.solve_triangular(A, A, upper=True),
    "cholesky_solve": lambda L, A: L.cholesky_solve(A, A),
    "householder": lambda L, A: L.linalg.householder_product(A, A[:, 0]),
    "logdet": lambda L, A: L.logdet(A),
    "fro": lambda L, A: L.linalg.matrix_norm(A), "power2": lambda L, A: L.linalg.matrix_power(A, 2),
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(LOW))
def test_low_precision_linalg_raises_pytorchs_error(name, dtype):
    def outcome(L):
        try:
            LOW[name](L, L.eye(3, dtype=getattr(L, dtype)) + 0)
            return "ok"
        except (RuntimeError, NotImplementedError) as e:
            return type(e).__name__, str(e)

    assert outcome(gn) == outcome(torch)
