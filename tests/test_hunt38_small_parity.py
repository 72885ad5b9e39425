"""Small parity fixes from the thirty-eighth session's hunts: angle's gradient at NaN, GELU's
`approximate` checked, soft-margin's gradient for confident wrong predictions, huber and
soft-margin losses in the input's dtype, and `torch.fft`'s real-valued helpers with a clear
refusal of the transforms and of the complex dtypes."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _both_modes(fn, *arrays):
    """fn over graphnet tensors, eager and compiled: two results as NumPy trees."""
    eager = fn(*[gn.tensor(a) for a in arrays])
    static = gn.compile(fn)(*[gn.tensor(a) for a in arrays])
    return eager, static


def test_angle_gradient_is_zero_at_nan_too():
    data = np.array([-2.0, np.nan, 1.0, 0.0], dtype=np.float32)
    t = torch.tensor(data, requires_grad=True)
    torch.angle(t).sum().backward()

    def grad(x):
        x = x.clone().requires_grad_(True)
        return gn.autograd.grad(gn.angle(x).sum(), x)[0]

    for got in _both_modes(grad, data):
        np.testing.assert_array_equal(got.numpy(), t.grad.numpy())
    x = gn.tensor(data, requires_grad=True)
    out = x.angle()
    np.testing.assert_array_equal(out.detach().numpy(), torch.angle(torch.tensor(data)).numpy())
    assert type(out.grad_fn).__name__ == "AngleBackward0"


@pytest.mark.parametrize("bad", ["Tanh", "fast", "TANH", "sigmoid"])
def test_gelu_refuses_an_unknown_approximation_like_torch(bad):
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        torch.nn.functional.gelu(torch.ones(2), approximate=bad)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        gn.nn.functional.gelu(gn.ones(2), approximate=bad)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        gn.compile(gn.nn.GELU(approximate=bad))(gn.ones(2))
    with pytest.raises(TypeError, match="must be str, not NoneType"):
        gn.nn.functional.gelu(gn.ones(2), approximate=None)


def test_gelu_tanh_and_none_still_differ():
    x = np.array([0.5, 2.0, -1.5], dtype=np.float32)
    for mode in ("none", "tanh"):
        want = torch.nn.functional.gelu(torch.tensor(x), approximate=mode).numpy()
        for got in _both_modes(lambda t: gn.nn.functional.gelu(t, approximate=mode), x):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_soft_margin_gradient_of_a_confident_wrong_prediction(reduction):
    x = np.array([[87.3, 80.0, 2.0, -95.0]], dtype=np.float32)
    y = np.array([[-1.0, -1.0, 1.0, 1.0]], dtype=np.float32)
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.soft_margin_loss(t, torch.tensor(y), reduction=reduction).backward()

    def grad(a, b):
        a = a.clone().requires_grad_(True)
        loss = gn.nn.functional.soft_margin_loss(a, b, reduction=reduction)
        return gn.autograd.grad(loss, a)[0]

    for got in _both_modes(grad, x, y):
        np.testing.assert_allclose(got.numpy(), t.grad.numpy(), rtol=1e-6)
        assert got.numpy()[0, 0] != 0


@pytest.mark.parametrize("loss", ["huber_loss", "soft_margin_loss"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("bfloat16", "float32"),
                                    ("float64", "float32")])
def test_huber_and_soft_margin_are_in_the_inputs_dtype(loss, reduction, dtypes):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    y = np.sign(rng.standard_normal((3, 4)))
    tx = torch.tensor(x).to(getattr(torch, dtypes[0]))
    ty = torch.tensor(y).to(getattr(torch, dtypes[1]))
    want = getattr(torch.nn.functional, loss)(tx, ty, reduction=reduction)

    def f(a, b):
        a, b = a.to(getattr(gn, dtypes[0])), b.to(getattr(gn, dtypes[1]))
        return getattr(gn.nn.functional, loss)(a, b, reduction=reduction)

    for got in _both_modes(f, x, y):
        assert str(got.dtype).split(".")[1] == dtypes[0]
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(),
                                   rtol=1e-2 if "bfloat16" in dtypes else 1e-6)


@pytest.mark.parametrize("n", [1, 2, 5, 6, 7])
@pytest.mark.parametrize("d", [1.0, 0.1, 3])
def test_fft_frequencies_match_torch_bit_for_bit(n, d):
    for name in ("fftfreq", "rfftfreq"):
        for td, gd in ((None, None), (torch.float64, gn.float64)):
            want = getattr(torch.fft, name)(n, d, dtype=td)
            got = getattr(gn.fft, name)(n, d, dtype=gd)
            assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="fftfreq requires a floating point or complex"):
        gn.fft.fftfreq(n, dtype=gn.int64)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 5)])
@pytest.mark.parametrize("dim", [None, 0, -1, (0,), [0, -1]])
def test_fft_shifts_match_torch_with_gradients(shape, dim):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    w = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    for name in ("fftshift", "ifftshift"):
        t = torch.tensor(x, requires_grad=True)
        want = getattr(torch.fft, name)(t, dim=dim)
        (want * torch.tensor(w)).sum().backward()

        def f(a, weights):
            a = a.clone().requires_grad_(True)
            out = getattr(gn.fft, name)(a, dim=dim)
            return out, gn.autograd.grad((out * weights).sum(), a)[0]

        for out, grad in _both_modes(f, x, w):
            np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())
            np.testing.assert_array_equal(grad.numpy(), t.grad.numpy())


def test_fft_transforms_and_complex_dtypes_are_refused_with_the_way_out():
    for name in ("fft", "rfft", "rfft2", "irfft2", "fftn", "ihfft"):
        with pytest.raises(TypeError, match="no complex dtypes.*DFT matrices"):
            getattr(gn.fft, name)(gn.ones(4))
    for name in ("cfloat", "cdouble", "complex64", "complex128", "chalf"):
        with pytest.raises(AttributeError, match="no complex dtypes"):
            getattr(gn, name)


def test_accelerator_questions_as_the_tutorials_ask_them():
    want = torch.accelerator.current_accelerator()
    got = gn.accelerator.current_accelerator()
    assert (got is None) == (want is None) == (not gn.accelerator.is_available())
    device = got.type if gn.accelerator.is_available() else "cpu"
    assert gn.ones(2).to(device).sum().item() == 2
    assert gn.accelerator.device_count() == torch.accelerator.device_count()
    if not gn.accelerator.is_available():
        for name in ("current_device_index", "synchronize"):
            with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
                getattr(gn.accelerator, name)()


@pytest.mark.parametrize("name", "sparse multiprocessing nested hub fx export mps "
                                 "quantization ao".split())
def test_torch_submodules_graphnet_lacks_say_why(name):
    assert hasattr(torch, name)
    with pytest.raises(AttributeError, match=r"has no attribute .*\(.*; use .*\)"):
        getattr(gn, name)


@pytest.mark.parametrize("options", [
    dict(dynamic=True), dict(dynamic=False), dict(fullgraph=True), dict(backend="inductor"),
    dict(backend=None), dict(mode="reduce-overhead"), dict(mode="max-autotune"),
    dict(mode="default"), dict(mode=None), dict(disable=False), dict(options={"a": 1}),
    dict(recompile_limit=3)])
def test_torch_compile_arguments_compile_a_static_program(options):
    model = gn.nn.Linear(3, 2)
    x = gn.ones(4, 3)

    def forward(x):
        return model(x)

    compiled = gn.compile(forward, **options)
    np.testing.assert_allclose(compiled(x).detach().numpy(), model(x).detach().numpy())
    assert compiled.compiled.mode == "static" and compiled.explain()["graphs"] == 1
    if "recompile_limit" in options:
        assert compiled.compiled.cache_size == 3
    decorated = gn.compile(**options)(forward)
    assert decorated.compiled.mode == "static"


def test_torch_compile_disable_and_eager_backend_run_eagerly():
    def f(x):
        return x * 2

    assert gn.compile(f, disable=True) is f
    assert gn.compile(disable=True)(f) is f
    assert gn.compile(f, backend="eager").compiled.mode == "dynamic"
    assert gn.compile(f, disable=["cse"]).compiled.disable == ("cse",)   # graphnet's passes
    with pytest.raises(ValueError, match="backend 'tvm' is not one graphnet has"):
        gn.compile(f, backend="tvm")
    with pytest.raises(ValueError, match="is not one graphnet has"):
        gn.compile(f, backend=lambda gm, inputs: gm)


def test_one_hot_without_num_classes_names_the_way_out_when_compiled():
    labels = gn.tensor([0, 3, 1])
    np.testing.assert_array_equal(gn.nn.functional.one_hot(labels).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor([0, 3, 1])).numpy())
    with pytest.raises(gn.TraceError, match="one_hot: num_classes=-1 .* pass num_classes="):
        gn.compile(lambda t: gn.nn.functional.one_hot(t))(labels)
    got = gn.compile(lambda t: gn.nn.functional.one_hot(t, num_classes=4))(labels)
    np.testing.assert_array_equal(got.numpy(), np.eye(4, dtype=np.int64)[[0, 3, 1]])


def test_reading_a_number_in_a_compiled_step_says_to_return_the_tensor():
    with pytest.raises(gn.TraceError, match="return the tensor and read it after the call"):
        gn.compile(lambda x: (x * 2).sum().item())(gn.ones(3))


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "bool"])
def test_sum_with_the_inputs_own_integer_dtype_sums_in_it(dtype):
    data = np.array([[120, 100, 7], [1, 2, 0]])
    t = torch.tensor(data).to(getattr(torch, dtype))
    for dim in (None, 1):
        want = t.sum(dtype=t.dtype) if dim is None else t.sum(dim, dtype=t.dtype)
        for got in _both_modes(lambda x: x.to(getattr(gn, dtype)).sum(
                *(() if dim is None else (dim,)), dtype=getattr(gn, dtype)), data):
            assert got.dtype == getattr(gn, dtype)
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_default_collate_promotes_mixed_numpy_samples_as_torch():
    from torch.utils.data import default_collate as torch_collate

    from graphnet.utils.data import default_collate
    for batch in ([np.arange(3), np.ones(3, np.float32)],
                  [np.int64(1), np.float32(2)], [np.float32(1.5), 2.5]):
        want, got = torch_collate(batch), default_collate(batch)
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        np.testing.assert_array_equal(got.numpy(), want.numpy())
