"""Contractions (graphnet/_contractions.py, _sums_of_products.py) and linear algebra
(graphnet/linalg.py, _linalg_torch.py, _linalg_norms.py) against PyTorch: values, dtypes and
gradients, eagerly and compiled; PyTorch's errors; LinAlgError in both modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_shape_extra_kit import check, raises_like

import graphnet


def r(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype(np.float32)


def well(T, a):
    return a + 4 * T.eye(a.shape[-1])


def spd(T, a):
    return a @ a.mT + 3 * T.eye(a.shape[-1])


NAN = np.array([[np.nan, 1.0], [2.0, np.inf]], np.float32)

CASES = {
    "addmm": (lambda T, c, a, b: [T.addmm(c, a, b), c.addmm(a, b, beta=0.5, alpha=2),
                                  T.addmm(c[0], a, b, beta=2)], r(2, 4), r(2, 3), r(3, 4)),
    "addmm_beta0_ignores_nan": (lambda T, c, a, b: T.addmm(c, a, b, beta=0), NAN, r(2, 3),
                                r(3, 2)),
    "addmm_": (lambda T, c, a, b: (c * 1).addmm_(a, b, alpha=-1), r(2, 4), r(2, 3), r(3, 4)),
    "baddbmm": (lambda T, c, a, b: [T.baddbmm(c, a, b, beta=0.5), c.baddbmm(a, b, alpha=3)],
                r(2, 2, 4), r(2, 2, 3), r(2, 3, 4)),
    "addbmm": (lambda T, c, a, b: [T.addbmm(c, a, b), c.addbmm(a, b, beta=0, alpha=2)],
               r(2, 4), r(3, 2, 5), r(3, 5, 4)),
    "addmv": (lambda T, c, m, v: [T.addmv(c, m, v, alpha=2), c.addmv(m, v, beta=0),
                                  (c * 1).addmv_(m, v)], r(3), r(3, 4), r(4)),
    "addr": (lambda T, c, a, b: [T.addr(c, a, b, beta=2), c.addr(a, b, alpha=0.5),
                                 (c * 1).addr_(a, b)], r(3, 2), r(3), r(2)),
    "outer": (lambda T, a, b: [T.outer(a, b), a.ger(b), T.ger(b, a)], r(3), r(2)),
    "outer_ints": (lambda T, a: T.outer(a, a * 2), np.arange(3)),
    "mv": (lambda T, m, v: [T.mv(m, v), m.mv(v)], r(3, 4), r(4)),
    "dot": (lambda T, a, b: [T.dot(a, b), a.dot(b), T.vdot(a, b), a.vdot(b)], r(5), r(5)),
    "dot_ints": (lambda T, a: T.dot(a, a), np.arange(4)),
    "inner": (lambda T, a, b, s: [T.inner(a, b), a.inner(b[0]), T.inner(s, a)], r(2, 3),
              r(4, 3), np.float32(1.5)),
    "kron": (lambda T, a, b: [T.kron(a, b), a.kron(b[0]), T.kron(b[0, 0], a)], r(2, 3),
             r(2, 2, 2)),
    "cross": (lambda T, a, b: [T.cross(a, b, dim=1), a.cross(b, 1), T.linalg.cross(a.mT, b.mT)],
              r(2, 3, 4), r(2, 3, 4)),
    "cross_broadcast": (lambda T, a, b: T.linalg.cross(a, b), r(4, 3), r(1, 3)),
    "tensordot": (lambda T, a, b: [T.tensordot(a, b, dims=1), T.tensordot(a, b.permute(2, 0, 1), dims=(
        [1, 2], [2, 1])), T.tensordot(a, b, ([2], [0])), T.tensordot(a, b[0], 0)],
        r(2, 3, 4), r(4, 3, 2)),
    "chain_matmul": (lambda T, a, b, c: [T.chain_matmul(a, b, c), T.linalg.multi_dot(
        [a[0], b, c]), T.linalg.multi_dot([a, b, c[:, 0]])], r(2, 3), r(3, 4), r(4, 2)),
    "matrix_power": (lambda T, a: [T.matrix_power(a, 3), a.matrix_power(0), T.linalg.matrix_power(
        well(T, a), -2), a.matrix_power(1)], r(2, 3, 3)),
    "matrix_exp": (lambda T, a: [T.matrix_exp(a * 0.5), a.matrix_exp()], r(3, 3)),
    "trapezoid": (lambda T, y, x: [T.trapezoid(y), T.trapezoid(y, x), T.trapezoid(y, dx=0.5,
                                   dim=0), T.trapz(y, x[None, :].expand(3, 4)),
                                   T.trapz(y, dx=2), T.trapezoid(y[:, :0])], r(3, 4), r(4)),
    "trapezoid_ints": (lambda T, y: T.trapezoid(y), np.arange(5)),
    "cumulative_trapezoid": (lambda T, y, x: [T.cumulative_trapezoid(y), T.cumulative_trapezoid(
        y, x, dim=1), T.cumulative_trapezoid(y, dx=3, dim=0)], r(3, 4), r(4)),
    "vander": (lambda T, x: [T.vander(x), T.vander(x, 2), T.vander(x, 4, increasing=True),
                             T.vander(x, 0)], r(3)),
    "linalg_vander": (lambda T, x: [T.linalg.vander(x), T.linalg.vander(x, N=2)], r(2, 3)),
    "vander_ints": (lambda T, x: T.vander(x, 3), np.arange(3, dtype=np.int32)),
    "cov": (lambda T, x, f, a: [T.cov(x), x.cov(correction=0), T.cov(x[0]),
                                T.cov(x, fweights=f, aweights=a), T.cov(x, aweights=a)],
            r(3, 5), np.array([1, 2, 1, 3, 1]), np.random.default_rng(0).uniform(
                0.5, 2, 5).astype(np.float32)),
    "corrcoef": (lambda T, x: [T.corrcoef(x), x.corrcoef(), T.corrcoef(x[0])], r(3, 5)),
    "det": (lambda T, a: [T.det(a), a.det(), T.linalg.det(a[0])], r(2, 3, 3)),
    "logdet": (lambda T, a: [T.logdet(spd(T, a)), a.logdet()], r(3, 3, 3)),
    "slogdet": (lambda T, a: [*T.slogdet(a), *a.slogdet(), *T.linalg.slogdet(a)], r(3, 3)),
    "inverse": (lambda T, a: [T.inverse(well(T, a)), well(T, a).inverse()], r(2, 3, 3)),
    "solve": (lambda T, a, b, v: [T.linalg.solve(well(T, a), b), T.linalg.solve(
        well(T, a), v), T.linalg.solve(well(T, a[0]), b.mT, left=False), T.linalg.solve(
        well(T, a), v[0])], r(2, 3, 3), r(3, 2), r(2, 3)),
    "cholesky": (lambda T, a: [T.cholesky(spd(T, a)), spd(T, a).cholesky(upper=True),
                               T.linalg.cholesky(spd(T, a) + T.triu(a, 1))], r(3, 3)),
    "cholesky_solve": (lambda T, b, a: [T.cholesky_solve(b, T.linalg.cholesky(spd(T, a))),
                                        b.cholesky_solve(T.linalg.cholesky(spd(T, a)).mT,
                                                         upper=True)], r(2, 3, 2), r(3, 3)),
    "cholesky_inverse": (lambda T, a: [T.cholesky_inverse(T.linalg.cholesky(spd(T, a))),
                                       T.linalg.cholesky(spd(T, a)).mT.cholesky_inverse(True)],
                         r(3, 3)),
    "qr": (lambda T, a: [*T.linalg.qr(a), *T.qr(a)], r(4, 3)),
    "qr_r": (lambda T, a: [*T.linalg.qr(a, "r"), *T.linalg.qr(a, "complete"), *a.qr(some=False)], r(4, 3)),
    "svd_sign_free": (lambda T, a: [(lambda u, s, v: [s, u @ T.diag_embed(s) @ v.mT])(*T.svd(a)),
                                    (lambda u, s, v: [s, (u[..., :3] * s[..., None, :]) @ v[
                                        ..., :3, :]])(*T.linalg.svd(a)), T.linalg.svdvals(a)],
                      r(2, 5, 3)),
    "svd_no_uv": (lambda T, a: [t.abs() for t in T.svd(a, compute_uv=False)], r(4, 3)),
    "eigh": (lambda T, a: [T.linalg.eigvalsh(spd(T, a)), T.linalg.eigvalsh(a, "U"),
                           (lambda w, v: [w, (v * v)])(*T.linalg.eigh(spd(T, a)))], r(4, 4)),
    "solve_triangular": (lambda T, a, b: [T.linalg.solve_triangular(well(T, a), b, upper=False),
                                          T.linalg.solve_triangular(well(T, a), b.mT, upper=True,
                                                                    unitriangular=True, left=False),
                                          *T.triangular_solve(b, well(T, a[0])),
                                          *b.triangular_solve(well(T, a), False, True)],
                         r(2, 3, 3), r(3, 2)),
    "lstsq": (lambda T, a, b, v: [T.linalg.lstsq(a, b).solution, T.linalg.lstsq(a, v)[0],
                                  *T.linalg.lstsq(a, b)[1:], *T.linalg.lstsq(a, b, driver="gels")[1:],
                                  T.linalg.lstsq(a.mT, b[:3]).solution],
              r(5, 3), r(5, 2), r(5)),
    "pinv": (lambda T, a: [T.linalg.pinv(a), T.pinverse(a), a.pinverse(), T.linalg.pinv(
        spd(T, a[:3]), hermitian=True), T.linalg.pinv(a, atol=0.5, rtol=0.1)], r(4, 3)),
    "vector_norm": (lambda T, x: [T.linalg.vector_norm(x, o, d, k) for o, d, k in [
        (2, None, False), (1, 1, True), (0, (0, 1), False), (math.inf, -1, False),
        (-math.inf, 0, True), (3.5, None, True), (0.5, 1, False)]], r(3, 4)),
    "vector_norm_zero_grad": (lambda T, x: T.linalg.vector_norm(x * 0, dim=1), r(2, 3)),
    "matrix_norm": (lambda T, a: [T.linalg.matrix_norm(a, o, keepdim=k) for o, k in [
        ("fro", False), ("nuc", True), (2, False), (-2, True), (1, False), (-1, True),
        (math.inf, True), (-math.inf, False)]] + [T.linalg.matrix_norm(a, 1, dim=(0, 2))],
        r(2, 3, 4)),
    "norm": (lambda T, a: [T.linalg.norm(a), T.linalg.norm(a, dim=1), T.linalg.norm(
        a[0], 2), T.linalg.norm(a[0, 0], 1), T.linalg.norm(a, "nuc", (1, 2)), T.linalg.norm(
        a, 3, -1, True)], r(2, 3, 4)),
    "matrix_rank": (lambda T, a: [T.linalg.matrix_rank(a), T.linalg.matrix_rank(
        a @ a.mT), T.linalg.matrix_rank(a, hermitian=False, atol=1.0), T.linalg.matrix_rank(
        a[0] @ a[0].mT, hermitian=True), T.linalg.matrix_rank(a, rtol=0.5)], r(2, 4, 3)),
    "vecdot": (lambda T, x, y: [T.linalg.vecdot(x, y), T.linalg.vecdot(x, y[0], dim=0)],
               r(3, 4), r(3, 4)),
}


# Over ~5 s each (many outputs, each compiled eagerly and in a program): run with -m slow.
# The ops under them also have their own fast parity case (tests/op_cases_linalg.py).
SLOW = {"lstsq", "trapezoid", "cholesky", "norm", "solve"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in sorted(CASES)])
def test_matches_torch_eager_and_compiled(name):
    call, *arrays = CASES[name]
    check(call, *arrays, atol=1e-4, rtol=1e-4, grads=name not in NO_GRADIENT)


# PyTorch itself cannot differentiate these: torch.vander's backward fails ("modified by an
# inplace operation"), linalg.qr(mode="r") refuses, lstsq's rank counts are integers.
NO_GRADIENT = {"vander", "qr_r"}


def test_lstsq_rank_revealing_drivers_report_singular_values_eagerly_and_refuse_compiled():
    a, b = r(5, 3), r(5, 2)
    check(lambda T, a, b: T.linalg.lstsq(a, b, driver="gelsd"), a, b, compiled=False,
          atol=1e-4, rtol=1e-4)
    with pytest.raises(graphnet.TraceError, match="driver='gels'"):
        graphnet.compile(lambda a, b: graphnet.linalg.lstsq(a, b, driver="gelss"))(
            graphnet.tensor(a), graphnet.tensor(b))


ERRORS = {
    "addmm_shapes": (lambda T, c, a: T.addmm(c, a, a), r(2, 2), r(2, 3)),
    "addmm_broadcast": (lambda T, c, a: T.addmm(c, a, a.mT), r(3, 2), r(2, 3)),
    "baddbmm_batches": (lambda T, c, a, b: T.baddbmm(c, a, b), r(2, 2), r(2, 2, 3), r(3, 3, 2)),
    "addmv_rank": (lambda T, c, m: T.addmv(c, m, m), r(2), r(2, 2)),
    "outer_rank": (lambda T, a: T.outer(a, a), r(2, 2)),
    "dot_sizes": (lambda T, a, b: T.dot(a, b), r(2), r(3)),
    "dot_dtypes": (lambda T, a: T.dot(a, a.long()), r(2)),
    "dot_rank": (lambda T, a: T.dot(a, a), r(2, 2)),
    "inner_sizes": (lambda T, a, b: T.inner(a, b), r(2, 3), r(2)),
    "cross_size": (lambda T, a: T.linalg.cross(a, a), r(2, 4)),
    "tensordot_sizes": (lambda T, a, b: T.tensordot(a, b, 1), r(2, 3), r(2, 3)),
    "multi_dot_one": (lambda T, a: T.linalg.multi_dot([a]), r(2, 2)),
    "matrix_power_square": (lambda T, a: T.matrix_power(a, 2), r(2, 3)),
    "vander_rank": (lambda T, a: T.vander(a), r(2, 2)),
    "cov_rank": (lambda T, a: T.cov(a), r(2, 2, 2)),
    "det_square": (lambda T, a: T.linalg.det(a), r(2, 3)),
    "det_rank": (lambda T, a: T.linalg.det(a), r(3)),
    "det_ints": (lambda T: T.linalg.det(T.eye(2, dtype=T.int64)),),
    "solve_shapes": (lambda T, a, b: T.linalg.solve(a, b), r(3, 3), r(2, 2)),
    "qr_mode": (lambda T, a: T.linalg.qr(a, "full"), r(3, 3)),
    "eigh_uplo": (lambda T, a: T.linalg.eigh(a, "X"), r(3, 3)),
    "matrix_norm_ord": (lambda T, a: T.linalg.matrix_norm(a, 3), r(3, 3)),
    "norm_3d_ord": (lambda T, a: T.linalg.norm(a, 2), r(2, 2, 2)),
    "vector_norm_ints": (lambda T: T.linalg.vector_norm(T.arange(3)),),
    "removed_solve": (lambda T, a: T.solve(a, a), r(2, 2)),
    "removed_lstsq": (lambda T, a: T.lstsq(a, a), r(2, 2)),
    "removed_symeig": (lambda T, a: T.symeig(a), r(2, 2)),
    "removed_matrix_rank": (lambda T, a: T.matrix_rank(a), r(2, 2)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_arguments_raise_pytorchs_error(name):
    call, *arrays = ERRORS[name]
    expected, got = raises_like(call, *arrays)
    assert got.split(":")[0].split(" ")[0] == expected.split(":")[0].split(" ")[0], (got,
                                                                                       expected)


BAD_MATRICES = {
    "inv": (lambda T, a: T.linalg.inv(a), np.zeros((3, 3), np.float32)),
    "inverse_batch": (lambda T, a: T.inverse(a), np.stack([np.eye(2), [[1, 2], [2, 4]]]).astype(
        np.float32)),
    "solve": (lambda T, a: T.linalg.solve(a, a[..., 0]), np.ones((2, 2), np.float32)),
    "cholesky": (lambda T, a: T.linalg.cholesky(a), np.diag([1.0, 2.0, -1.0]).astype(np.float32)),
    "cholesky_upper": (lambda T, a: T.cholesky(a, upper=True), -np.eye(2, dtype=np.float32)),
}


@pytest.mark.parametrize("name", sorted(BAD_MATRICES))
@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_singular_or_indefinite_matrices_raise_linalg_error(name, mode):
    call, a = BAD_MATRICES[name]
    torch = pytest.importorskip("torch")
    with pytest.raises(torch.linalg.LinAlgError) as expected:
        call(torch, torch.from_numpy(a))
    fn = (lambda x: call(graphnet, x)) if mode == "eager" else \
        graphnet.compile(lambda x: call(graphnet, x))
    with pytest.raises(graphnet.linalg.LinAlgError) as got:
        fn(graphnet.tensor(a))
    assert isinstance(got.value, RuntimeError)
    # eagerly the message is PyTorch's; compiled it may omit the minor's order
    # the text after "name:" is PyTorch's; compiled, it may omit the minor's order
    text = str(expected.value).split(": ", 1)[1].split(" (")[0].split("): ")[-1]
    assert text.split(",")[0] in str(got.value)
    if mode == "eager" and "Batch" not in str(expected.value):
        assert str(got.value).split(": ", 1)[1] == str(expected.value).split(": ", 1)[1]


@pytest.mark.slow
def test_cond_and_torch_level_norms_match_torch():
    check(lambda T, a: [T.linalg.cond(a), T.linalg.cond(a, -2), T.frobenius_norm(a, (1, 2)),
                        T.nuclear_norm(a[0]), T.nuclear_norm(a, (0, 2), True)],
          r(2, 3, 3), atol=1e-4, rtol=1e-4)
    # torch cannot differentiate the norm-based ones (its inverse is modified in place)
    check(lambda T, a: [T.linalg.cond(well(T, a), 1), T.linalg.cond(well(T, a), "fro"),
                        T.linalg.cond(well(T, a), float("inf"))], r(2, 3, 3), atol=1e-4,
          rtol=1e-4, grads=False)


def test_tensorinv_and_tensorsolve_match_torch():
    check(lambda T, a, b: [T.linalg.tensorinv(well(T, a).reshape(2, 3, 6), ind=2),
                           T.linalg.tensorsolve(well(T, a).reshape(6, 2, 3), b),
                           T.linalg.tensorsolve(well(T, a).reshape(6, 2, 3).permute(1, 0, 2),
                                                b, dims=(0,))],
          r(6, 6), r(6), atol=1e-4, rtol=1e-4)


def test_empty_batches_and_zero_dim_inputs_match_torch():
    check(lambda T, a: [T.linalg.inv(a), T.linalg.cholesky(a @ a.mT), T.linalg.det(a)],
          np.zeros((0, 2, 2), np.float32))
    check(lambda T, s: [T.movedim(s, 0, 0), T.kron(s, s), T.inner(s, s)], np.float32(1.5))
