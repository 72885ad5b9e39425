"""PyTorch's refusals graphnet used to answer with numbers: clamp of bool by bool bounds,
backward through floor_divide and a tall complete QR, a singular Cholesky factor's inverse,
pinv/lstsq of NaN, mixed dtypes in triangular_solve/vecdot, parameters_to_vector of a
non-contiguous tensor. Each case runs in PyTorch, eager graphnet and compiled graphnet."""

import pytest
import torch

import graphnet
import graphnet.nn.utils as gutils


def _both_raise(fn_torch, fn_graphnet, exc, match):
    with pytest.raises(exc, match=match):
        fn_torch()
    with pytest.raises(exc, match=match):
        fn_graphnet()
    with pytest.raises(exc, match=match):
        graphnet.compile(fn_graphnet)()


@pytest.mark.parametrize("call, kernel", [
    (lambda lib, b: lib.clamp(b, False, True), "clamp_scalar_cpu"),
    (lambda lib, b: lib.clip(b, min=True), "clamp_min_scalar_cpu"),
    (lambda lib, b: lib.clamp_min(b, False), "clamp_min_scalar_cpu"),
    (lambda lib, b: lib.clamp_max(b, True), "clamp_max_scalar_cpu"),
    (lambda lib, b: b.clone().clamp_(False, True), "clamp_scalar_cpu"),
    (lambda lib, b: b.clone().clamp_max_(True), "clamp_max_scalar_cpu"),
    (lambda lib, b: lib.clamp(b, lib.tensor(False), lib.tensor(True)), "clamp_cpu"),
])
def test_clamp_of_bool_by_bool_bounds_raises(call, kernel):
    _both_raise(lambda: call(torch, torch.tensor([True, False])),
                lambda: call(graphnet, graphnet.tensor([True, False])),
                NotImplementedError, f'"{kernel}" not implemented for \'Bool\'')


def test_clamp_of_bool_by_numbers_or_one_tensor_bound_runs():
    for lib in (torch, graphnet):
        b = lib.tensor([True, False])
        assert lib.clamp(b, 0, 1).tolist() == [1, 0]
        assert lib.clamp(b, 0, 1).dtype == lib.int64
        assert lib.clamp(b, min=lib.tensor([False, False])).tolist() == [True, False]
    compiled = graphnet.compile(lambda b: graphnet.clamp(b, 0, 1))
    assert compiled(graphnet.tensor([True, False])).tolist() == [1, 0]


@pytest.mark.parametrize("call", [lambda lib, x: lib.floor_divide(x, 2.0),
                                  lambda lib, x: x // 2.0,
                                  lambda lib, x: 7.0 // x,
                                  lambda lib, x: x.floor_divide(2.0)])
def test_backward_through_floor_divide_raises(call):
    def step(lib):
        x = lib.tensor([3.0, 5.0], requires_grad=True)
        call(lib, x).sum().backward()

    for lib in (torch, graphnet):
        x = lib.tensor([3.0, 5.0], requires_grad=True)
        assert call(lib, x).requires_grad
        assert call(lib, x).tolist() == call(lib, x.detach()).tolist()
    _both_raise(lambda: step(torch), lambda: step(graphnet), RuntimeError,
                "derivative for aten::floor_divide is not implemented")


def test_compiled_forward_with_floor_divide_raises_only_when_a_gradient_reaches_it():
    """A compiled model whose forward uses `//` on a parameter runs, and its other output
    backpropagates, as in PyTorch; only a backward through the quotient raises."""
    def forward(lib, w, x):
        return (w * x).sum() + ((w * x) // 1).detach().sum(), (w * x) // 1

    results = {}
    for name, lib in (("torch", torch), ("eager", graphnet), ("compiled", graphnet)):
        w = lib.ones(3, requires_grad=True)
        x = lib.tensor([1.5, 2.5, 3.5])
        fn = graphnet.compile(lambda w, x: forward(lib, w, x)) if name == "compiled" \
            else (lambda w, x, lib=lib: forward(lib, w, x))
        total, quotient = fn(w, x)
        total.backward()
        results[name] = (total.item(), w.grad.tolist(), quotient.requires_grad)
        total, quotient = fn(w, x)
        with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not "
                                               "implemented"):
            quotient.sum().backward()
    assert results["eager"] == results["compiled"] == results["torch"] \
        == (13.5, [1.5, 2.5, 3.5], True)


def test_div_floor_keeps_zero_gradients():
    for lib in (torch, graphnet):
        x = lib.tensor([3.0, 5.0], requires_grad=True)
        lib.div(x, 2.0, rounding_mode="floor").sum().backward()
        assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("pick", [0, 1])
def test_complete_qr_of_tall_matrix_refuses_backward(pick):
    values = [[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]

    def step(lib):
        a = lib.tensor(values, requires_grad=True)
        lib.linalg.qr(a, mode="complete")[pick].sum().backward()

    _both_raise(lambda: step(torch), lambda: step(graphnet), RuntimeError,
                "not differentiable when mode='complete' and nrows > ncols")


def test_complete_qr_of_wide_matrix_still_differentiates():
    values = [[1.0, 2.0, 0.5], [3.0, 4.0, 1.0]]
    grads = []
    for lib in (torch, graphnet):
        a = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        q, r = lib.linalg.qr(a, mode="complete")
        (q.sum() + r.sum()).backward()
        grads.append(a.grad.flatten().tolist())
    assert grads[1] == pytest.approx(grads[0])


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_of_singular_factor_raises(upper):
    factor = [[1.0, 0.0], [2.0, 0.0]]
    _both_raise(lambda: torch.cholesky_inverse(torch.tensor(factor), upper=upper),
                lambda: graphnet.cholesky_inverse(graphnet.tensor(factor), upper=upper),
                RuntimeError,
                r"cholesky_inverse: The diagonal element 2 is zero")
    with pytest.raises(graphnet.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        graphnet.cholesky_inverse(graphnet.tensor([[[1.0, 0.0], [0.0, 1.0]], factor]))


def test_pinv_of_nan_raises():
    values = [[1.0, float("nan")], [3.0, 4.0], [5.0, 6.0]]
    _both_raise(lambda: torch.linalg.pinv(torch.tensor(values)),
                lambda: graphnet.linalg.pinv(graphnet.tensor(values)),
                RuntimeError, "linalg.svd: The algorithm failed to converge")
    with pytest.raises(graphnet.linalg.LinAlgError):
        graphnet.linalg.pinv(graphnet.tensor(values))


@pytest.mark.parametrize("nan_in, argument", [("A", 4), ("B", 6)])
def test_lstsq_of_nan_raises(nan_in, argument):
    a = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    b = [[1.0], [2.0], [3.0]]
    if nan_in == "A":
        a[0][1] = float("nan")
    else:
        b[1][0] = float("nan")
    _both_raise(lambda: torch.linalg.lstsq(torch.tensor(a), torch.tensor(b)),
                lambda: graphnet.linalg.lstsq(graphnet.tensor(a), graphnet.tensor(b)),
                RuntimeError, f"torch.linalg.lstsq: Argument {argument} has illegal value")


def test_triangular_solve_refuses_mixed_dtypes():
    def call(lib):
        return lib.triangular_solve(lib.ones(2, 1, dtype=lib.float64),
                                    lib.tensor([[2.0, 0.0], [1.0, 3.0]]), upper=False)

    _both_raise(lambda: call(torch), lambda: call(graphnet), RuntimeError,
                "Expected b and A to have the same dtype, but found b of type Double and A of "
                "type Float instead.")


def test_solve_triangular_takes_mixed_dtypes_in_a_dtype():
    for lib in (torch, graphnet):
        x = lib.linalg.solve_triangular(lib.tensor([[2.0, 0.0], [1.0, 3.0]]),
                                        lib.ones(2, 1, dtype=lib.float64), upper=False)
        assert x.dtype == lib.float32
        assert x.flatten().tolist() == pytest.approx([0.5, 1 / 6])


def test_vecdot_refuses_mixed_dtypes():
    def call(lib):
        return lib.linalg.vecdot(lib.ones(3), lib.ones(3, dtype=lib.float64))

    _both_raise(lambda: call(torch), lambda: call(graphnet), RuntimeError,
                "linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                "Float and y of type Double instead")


def test_parameters_to_vector_of_non_contiguous_tensor_raises():
    _both_raise(
        lambda: torch.nn.utils.parameters_to_vector([torch.arange(6.0).reshape(2, 3).t()]),
        lambda: gutils.parameters_to_vector([graphnet.arange(6.0).reshape(2, 3).t()]),
        RuntimeError, "view size is not compatible with input tensor's size and stride")
    for lib, utils in ((torch, torch.nn.utils), (graphnet, gutils)):
        strided = lib.arange(6.0)[::2]   # one dim: a view still flattens it
        assert utils.parameters_to_vector([strided]).tolist() == [0.0, 2.0, 4.0]


def test_vector_to_parameters_gives_a_transposed_parameter_contiguous_data():
    for lib, utils in ((torch, torch.nn.utils), (graphnet, gutils)):
        p = lib.nn.Parameter(lib.zeros(2, 3).t())
        utils.vector_to_parameters(lib.arange(6.0), [p])
        assert p.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
        assert p.is_contiguous()
