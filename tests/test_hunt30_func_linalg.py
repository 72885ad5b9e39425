"""func and linalg against PyTorch: a list in vmap's in_dims, lstsq's gelsd under compile,
unique argnums, the condition number of a singular matrix, norms' dtype checks."""

import math

import numpy as np
import pytest

import graphnet

torch = pytest.importorskip("torch")


def test_vmap_in_dims_list_matches_a_list_argument():
    for lib in (torch, graphnet):
        x, y = lib.arange(6.).reshape(2, 3), lib.arange(6.).reshape(3, 2)
        out = lib.func.vmap(lambda ab: ab[0] * ab[1], in_dims=([0, 1],))([x, y])
        assert out.tolist() == [[0.0, 2.0, 8.0], [3.0, 12.0, 25.0]]
    sums = graphnet.func.vmap(lambda ab: [ab[0].sum(0), ab[1].sum(0)], in_dims=([0, 1],),
                              out_dims=[0, 0])([graphnet.arange(6.).reshape(2, 3),
                                                graphnet.arange(6.).reshape(3, 2)])
    assert [s.tolist() for s in sums] == [[3.0, 12.0], [6.0, 9.0]]


@pytest.mark.parametrize("driver", ["gelsd", "gelss"])
@pytest.mark.parametrize("shape", [(2, 2), (2, 3)])
def test_lstsq_svd_drivers_compile_for_square_and_wide(driver, shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(
        (shape[0], 1)).astype(np.float32)
    want = torch.linalg.lstsq(torch.from_numpy(a), torch.from_numpy(b), driver=driver)
    f = graphnet.compile(lambda a, b: graphnet.linalg.lstsq(a, b, driver=driver).solution)
    got = f(graphnet.from_numpy(a), graphnet.from_numpy(b))
    np.testing.assert_allclose(got.numpy(), want.solution.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("transform", ["grad", "grad_and_value", "jacrev", "jacfwd", "hessian"])
def test_repeated_argnums_raise_as_in_pytorch(transform):
    for lib in (torch, graphnet):
        x = lib.ones(3)
        with pytest.raises(RuntimeError, match=r"argnums elements must be unique, got \(1, 1\)"):
            getattr(lib.func, transform)(lambda a, b: (a * b).sum(), argnums=(1, -1))(x, x)


@pytest.mark.parametrize("p", [1, -1, "fro", math.inf, -math.inf])
@pytest.mark.parametrize("compiled", [False, True])
def test_cond_of_a_singular_matrix_is_inf(p, compiled):
    batch = [[[2.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 4.0]]]
    want = torch.linalg.cond(torch.tensor(batch), p)
    f = lambda a: graphnet.linalg.cond(a, p)   # noqa: E731
    got = (graphnet.compile(f) if compiled else f)(graphnet.tensor(batch))
    assert math.isinf(got[1].item()) and math.isinf(want[1].item())
    assert got[0].item() == pytest.approx(want[0].item(), rel=1e-5)


def test_cond_nuc_is_from_the_singular_values():
    a = [[2.0, 1.0], [1.0, 3.0]]
    want = torch.linalg.cond(torch.tensor(a), "nuc")
    assert graphnet.linalg.cond(graphnet.tensor(a), "nuc").item() == pytest.approx(
        want.item(), rel=1e-5)


@pytest.mark.parametrize("call", [
    lambda lib, x, d: lib.linalg.vector_norm(x, dtype=d),
    lambda lib, x, d: lib.norm(x, dtype=d),
    lambda lib, x, d: lib.norm(x, p=1, dtype=d),
    lambda lib, x, d: lib.linalg.norm(x, dtype=d),
    lambda lib, x, d: lib.linalg.matrix_norm(x.reshape(1, 2), dtype=d),
])
def test_norm_dtype_checks_match_pytorch(call):
    for source, target in (("float64", "float32"), ("int64", "float32"), ("float64", "int64"),
                           ("bfloat16", "float16")):
        errors = []
        for lib in (torch, graphnet):
            x = lib.tensor([3, 4]).to(getattr(lib, source))
            try:
                call(lib, x, getattr(lib, target))
                errors.append(None)
            except RuntimeError as error:
                errors.append(str(error))
        assert errors[0] == errors[1], (source, target)
    for lib in (torch, graphnet):   # widening is fine
        out = call(lib, lib.tensor([3.0, 4.0]), lib.float64)
        assert out.dtype == lib.float64 and out.item() in (5.0, 7.0)
