"""Linear algebra answers that were silently wrong, each checked against PyTorch eagerly and
inside `graphnet.compile` (forward and backward in one compiled step):

- eigvalsh / eigh's eigenvalues: the gradient was NaN eagerly for a repeated eigenvalue;
- matrix_rank and pinv with a tolerance tensor (one per matrix): it was not given a trailing
  dim, so it broadcast against the singular values (pinv refused a tensor at all);
- cholesky_solve: the factor's gradient was zero on the triangle the solve does not read;
- pinv(hermitian=True) of a non-symmetric matrix: PyTorch reads the lower triangle only,
  graphnet averaged the two.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet as G


def _run(lib, fn, arrays, compiled=False):
    """fn's outputs and the gradients of sum(output * weights) for each input."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]

    def step(*xs):
        out = fn(lib, *xs)
        weights = lib.arange(1.0, out.numel() + 1, dtype=out.dtype).reshape(out.shape)
        (out * weights).sum().backward()
        return out

    out = (G.compile(step) if compiled else step)(*inputs)
    return out.detach().numpy(), [x.grad.numpy() for x in inputs]


def _check(fn, arrays, compiled, rtol=1e-5, atol=1e-6):
    t_out, t_grads = _run(torch, fn, arrays)
    g_out, g_grads = _run(G, fn, arrays, compiled)
    np.testing.assert_allclose(g_out, t_out, rtol=rtol, atol=atol)
    for g, t in zip(g_grads, t_grads):
        np.testing.assert_allclose(g, t, rtol=rtol, atol=atol)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("matrix", ["eye", "diag112"])
@pytest.mark.parametrize("how", ["eigvalsh", "eigvalsh_U", "eigh_values"])
def test_eigenvalue_gradient_with_repeated_eigenvalues(how, matrix, compiled):
    # NOTE: exactly equal eigenvalues; where they are equal only up to rounding, the
    # eigenvectors of the repeated one (and so the gradient) depend on the LAPACK routine
    a = {"eye": np.eye(3), "diag112": np.diag([1.0, 1.0, 2.0])}[matrix]
    fn = {"eigvalsh": lambda T, x: T.linalg.eigvalsh(x),
          "eigvalsh_U": lambda T, x: T.linalg.eigvalsh(x, UPLO="U"),
          "eigh_values": lambda T, x: T.linalg.eigh(x)[0]}[how]
    _check(fn, [a], compiled)


@pytest.mark.parametrize("compiled", [False, True])
def test_eigenvector_gradient_still_matches_for_distinct_eigenvalues(compiled):
    a = np.random.default_rng(1).standard_normal((2, 4, 4))
    _check(lambda T, x: (lambda w, v: w[..., None] * v * v)(*T.linalg.eigh(x, UPLO="U")),
           [a], compiled)


def _ranks(lib, compiled, hermitian, **tolerances):
    a = lib.diag(lib.tensor([1.0, 0.3])).expand(2, 2, 2)
    tolerances = {k: lib.tensor(v) for k, v in tolerances.items()}

    def rank(x):
        return lib.linalg.matrix_rank(x, hermitian=hermitian, **tolerances)

    return (G.compile(rank) if compiled else rank)(a).tolist()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("tolerances", [{"rtol": [0.5, 0.1]}, {"atol": [0.5, 0.1]},
                                        {"atol": [0.5, 0.1], "rtol": 0.0}])
def test_matrix_rank_tolerance_tensor_is_per_matrix(tolerances, hermitian, compiled):
    assert _ranks(G, compiled, hermitian, **tolerances) == \
        _ranks(torch, False, hermitian, **tolerances) == [1, 2]


@pytest.mark.parametrize("compiled", [False, True])
def test_matrix_rank_atol_tensor_of_zero_keeps_the_default_rtol(compiled):
    # PyTorch drops rtol to 0 only where atol is positive: a 1e-8 value is still cut
    def rank(lib, x):
        return lib.linalg.matrix_rank(x, atol=lib.tensor([0.0, 0.5]))

    a = np.diag([1.0, 1e-8]).astype(np.float32)[None].repeat(2, 0)
    g = (G.compile(lambda x: rank(G, x)) if compiled else lambda x: rank(G, x))(G.tensor(a))
    assert g.tolist() == rank(torch, torch.tensor(a)).tolist() == [1, 1]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("name", ["rtol", "atol"])
def test_pinv_tolerance_tensor_is_per_matrix(name, hermitian, compiled):
    a = np.stack([np.diag([1.0, 0.3]), np.diag([2.0, 0.1])]) + 0.01

    def fn(T, x):
        return T.linalg.pinv(x, hermitian=hermitian, **{name: T.tensor([0.5, 0.01])})

    _check(fn, [a], compiled, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("batch", [(), (2,)])
def test_cholesky_solve_factor_gradient_is_for_the_whole_matrix(batch, upper, compiled):
    rng = np.random.default_rng(2)
    m = rng.standard_normal((*batch, 3, 3))
    lower = np.linalg.cholesky(m @ np.swapaxes(m, -1, -2) + 3 * np.eye(3))
    factor = np.swapaxes(lower, -1, -2) if upper else lower
    b = rng.standard_normal((2, 3, 2))    # batch broadcast against an unbatched factor too
    _check(lambda T, x, f: T.cholesky_solve(x, f, upper=upper), [b, factor], compiled,
           rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("compiled", [False, True])
def test_hermitian_pinv_reads_the_lower_triangle(compiled):
    a = np.array([[[2.0, 1.0], [0.0, 3.0]], [[4.0, -1.0], [0.5, 1.0]]])
    _check(lambda T, x: T.linalg.pinv(x, hermitian=True), [a], compiled,
           rtol=1e-9, atol=1e-12)


def _raises_like_torch(fn, *arrays, compiled=False):
    with pytest.raises(RuntimeError) as expected:
        fn(torch, *[torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays])
    g_fn = (lambda *xs: fn(G, *xs))
    with pytest.raises(RuntimeError) as got:     # LinAlgError is a RuntimeError in both
        (G.compile(g_fn) if compiled else g_fn)(
            *[G.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays])
    assert str(got.value).startswith(str(expected.value).splitlines()[0])


_F32, _F64 = np.ones((3, 2), np.float32), np.ones((3, 2), np.float64)
_EYE64 = np.eye(3)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", ["cholesky_solve", "lstsq", "svdvals_nan", "svd_nan_batch",
                                  "qr_r_backward"])
def test_errors_pytorch_raises(name, compiled):
    nan = np.full((2, 2, 2), np.nan)
    nan[0] = np.eye(2)
    fn, arrays = {
        "cholesky_solve": (lambda T, b, a: T.cholesky_solve(b, a), (_F32, _EYE64)),
        "lstsq": (lambda T, a, b: T.linalg.lstsq(a, b).solution, (_F32, _F64)),
        "svdvals_nan": (lambda T, a: T.linalg.svdvals(a), (nan[1],)),
        "svd_nan_batch": (lambda T, a: T.linalg.svd(a).S, (nan,)),
        "qr_r_backward": (lambda T, a: T.linalg.qr(a, mode="r").R.sum().backward(), (_F64,)),
    }[name]
    _raises_like_torch(fn, *arrays, compiled=compiled)


@pytest.mark.parametrize("compiled", [False, True])
def test_solve_triangular_solves_in_the_matrix_dtype(compiled):
    def fn(T, a, b):
        return T.linalg.solve_triangular(a, b, upper=True)

    a, b = np.triu(np.ones((3, 3), np.float32)) + np.eye(3, dtype=np.float32), _F64
    expected = fn(torch, torch.tensor(a), torch.tensor(b))
    got = (G.compile(lambda *xs: fn(G, *xs)) if compiled else
           (lambda *xs: fn(G, *xs)))(G.tensor(a), G.tensor(b))
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1] == "float32"
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
