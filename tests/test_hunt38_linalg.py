"""Linear algebra from the thirty-eighth session's hunt: slogdet's gradient when only its
sign is used (NaN eagerly for a singular matrix: an unused output's zero cotangent met the
inverse; now left out as a compiled backward leaves it, graphnet/_autograd.make_vjp), det
of empty matrices backward, and PyTorch's errors for cholesky_solve sizes, a float matrix
power and a batch element that is not positive-definite."""

import numpy as np
import pytest
import torch

import graphnet as gn

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]], dtype=np.float32)


def _grad(lib, fn, a):
    x = lib.tensor(a, requires_grad=True)
    fn(lib, x).backward()
    return x.grad.numpy()


@pytest.mark.parametrize("use", ["sign", "both", "logabs"])
def test_slogdet_gradient_uses_only_what_the_loss_reads(use):
    a = SINGULAR if use == "sign" else np.array([[2.0, 1.0], [0.5, 3.0]], np.float32)

    def loss(lib, x):
        sign, logabs = lib.linalg.slogdet(x)
        parts = {"sign": sign, "both": sign + logabs, "logabs": logabs}
        return parts[use] + (x ** 2).sum()

    want = _grad(torch, loss, a)
    np.testing.assert_allclose(_grad(gn, loss, a), want, rtol=1e-5)

    def compiled(x):
        x = x.clone().requires_grad_(True)
        return gn.autograd.grad(loss(gn, x), x)[0]

    np.testing.assert_allclose(gn.compile(compiled)(gn.tensor(a)).numpy(), want, rtol=1e-5)


def test_eigenvalues_only_still_match_torch_at_a_repeated_eigenvalue():
    a = np.eye(3, dtype=np.float32)
    fn = lambda lib, x: lib.linalg.eigh(x)[0].sum()   # noqa: E731
    np.testing.assert_allclose(_grad(gn, fn, a), _grad(torch, fn, a), atol=1e-6)


def test_det_of_empty_matrices_backward():
    x = gn.zeros(2, 0, 0, requires_grad=True)
    d = gn.linalg.det(x)
    np.testing.assert_array_equal(d.detach().numpy(), [1.0, 1.0])
    d.sum().backward()
    assert x.grad.shape == (2, 0, 0)


def test_cholesky_solve_sizes_are_checked_in_torchs_words():
    for lib in (torch, gn):
        with pytest.raises(RuntimeError, match="Incompatible matrix sizes for cholesky_solve: "
                                               "each A matrix is 3 by 3 but each b matrix is 2 by 1"):
            lib.cholesky_solve(lib.ones(2, 1), lib.eye(3))


def test_matrix_power_refuses_a_float_exponent():
    for fn in (lambda lib: lib.linalg.matrix_power(lib.eye(2), 2.0),
               lambda lib: lib.matrix_power(lib.eye(2), 2.0)):
        for lib in (torch, gn):
            with pytest.raises(TypeError, match="argument 'n' .* must be int, not float"):
                fn(lib)
    np.testing.assert_array_equal(gn.linalg.matrix_power(gn.eye(2) * 2, 2).numpy(),
                                  np.eye(2) * 4)


@pytest.mark.parametrize("name", ["cholesky", "cholesky_ex"])
def test_cholesky_names_the_batch_element_that_fails(name):
    a = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]).astype(np.float32)

    def call(lib, x):
        if name == "cholesky":
            return lib.linalg.cholesky(x)
        return lib.linalg.cholesky_ex(x, check_errors=True)[0]

    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The factorization"):
        call(torch, torch.tensor(a))
    for fn in (lambda x: call(gn, x), gn.compile(lambda x: call(gn, x))):
        with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The factorization"):
            fn(gn.tensor(a))
    with pytest.raises(RuntimeError, match=r"cholesky\w*: The factorization"):
        call(gn, gn.tensor(a[1]))
