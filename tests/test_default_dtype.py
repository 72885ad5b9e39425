"""`set_default_dtype` / `get_default_dtype` / `set_default_tensor_type` as torch's: what the
default decides (factories, Python floats, layer parameters, `result_type`, `finfo`), the
errors for what it refuses, and compiled functions traced before and after a switch."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.fixture(autouse=True)
def restore_default_dtype():
    """Every test leaves both libraries at float32, whatever it set or raised."""
    try:
        yield
    finally:
        gn.set_default_dtype(gn.float32)
        torch.set_default_dtype(torch.float32)


def use(name: str) -> None:
    torch.set_default_dtype(getattr(torch, name))
    gn.set_default_dtype(getattr(gn, name))


def same_dtype(a, b) -> None:
    assert str(b.dtype).replace("graphnet.", "") == str(a.dtype).replace("torch.", ""), \
        (a.dtype, b.dtype)


FACTORIES = {
    "zeros": lambda T: T.zeros(2, 3),
    "ones": lambda T: T.ones(2),
    "empty": lambda T: T.empty(2),
    "full float": lambda T: T.full((2,), 1.5),
    "full int": lambda T: T.full((2,), 1),
    "rand": lambda T: T.rand(2),
    "randn": lambda T: T.randn(2),
    "normal": lambda T: T.normal(0.0, 1.0, (2,)),
    "arange float": lambda T: T.arange(0.0, 2.0, 0.5),
    "arange int": lambda T: T.arange(3),
    "linspace": lambda T: T.linspace(0, 1, 5),
    "logspace": lambda T: T.logspace(0, 1, 3),
    "eye": lambda T: T.eye(3),
    "scalar_tensor": lambda T: T.scalar_tensor(1),
    "tensor list": lambda T: T.tensor([1, 2.5]),
    "tensor float": lambda T: T.tensor(1.5),
    "tensor ints": lambda T: T.tensor([1, 2]),
    "tensor bool": lambda T: T.tensor([True]),
    "tensor numpy float64": lambda T: T.tensor(np.array([1.5])),
    "tensor numpy float32": lambda T: T.tensor(np.array([1.5], np.float32)),
    "as_tensor float": lambda T: T.as_tensor(1.5),
    "as_tensor list": lambda T: T.as_tensor([0.5, 2]),
    "zeros_like keeps": lambda T: T.zeros_like(T.ones(2, dtype=T.float32)),
    "randn_like keeps": lambda T: T.randn_like(T.ones(2, dtype=T.float32)),
    "dtype=float": lambda T: T.zeros(2, dtype=float),
}


@pytest.mark.parametrize("name", ["float64", "float16", "bfloat16", "float32"])
@pytest.mark.parametrize("case", sorted(FACTORIES))
def test_factories_follow_the_default(name, case):
    use(name)
    same_dtype(FACTORIES[case](torch), FACTORIES[case](gn))


def test_get_default_dtype_and_python_float_values():
    assert gn.get_default_dtype() is gn.float32
    use("float64")
    assert gn.get_default_dtype() is gn.float64
    # float64 holds the Python number itself, not its float32 rounding
    for fn in (lambda T: T.tensor([0.1, 1 / 3]), lambda T: T.full((2,), 0.1),
               lambda T: T.arange(0.0, 1.0, 0.1)):
        np.testing.assert_array_equal(fn(gn).numpy(), fn(torch).numpy())
    # NOTE: torch's vectorised linspace rounds some points 1 ulp apart from NumPy's (at
    # float32 too); float32 rounding would be ~1e-8 off
    np.testing.assert_allclose(gn.linspace(0, 1, 7).numpy(), torch.linspace(0, 1, 7).numpy(),
                               rtol=1e-15, atol=1e-16)
    assert gn.tensor(0.1).item() == 0.1


LAYERS = {
    "Linear": lambda nn: nn.Linear(3, 2).weight,
    "Linear bias": lambda nn: nn.Linear(3, 2).bias,
    "Conv2d": lambda nn: nn.Conv2d(1, 2, 3).weight,
    "ConvTranspose2d": lambda nn: nn.ConvTranspose2d(1, 2, 3).weight,
    "BatchNorm1d weight": lambda nn: nn.BatchNorm1d(3).weight,
    "BatchNorm1d running_var": lambda nn: nn.BatchNorm1d(3).running_var,
    "BatchNorm1d num_batches_tracked": lambda nn: nn.BatchNorm1d(3).num_batches_tracked,
    "LayerNorm": lambda nn: nn.LayerNorm(3).weight,
    "GroupNorm": lambda nn: nn.GroupNorm(1, 2).bias,
    "Embedding": lambda nn: nn.Embedding(4, 2).weight,
    "LSTM": lambda nn: nn.LSTM(2, 3).weight_hh_l0,
    "GRUCell": lambda nn: nn.GRUCell(2, 3).weight_ih,
    "MultiheadAttention": lambda nn: nn.MultiheadAttention(4, 2).in_proj_weight,
    "PReLU": lambda nn: nn.PReLU().weight,
    "Bilinear": lambda nn: nn.Bilinear(2, 2, 3).weight,
}


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_layers_made_after_the_switch(case):
    before = LAYERS[case](gn.nn)
    use("float64")
    same_dtype(LAYERS[case](torch.nn), LAYERS[case](gn.nn))
    assert before.dtype in (gn.float32, gn.int64)    # made before: kept


def test_result_type_angle_and_finfo_follow_the_default():
    use("float64")
    for fn in (lambda T: T.result_type(T.arange(2), 1.5),
               lambda T: T.result_type(T.tensor(1), 2.5)):
        assert str(fn(gn)).replace("graphnet.", "") == str(fn(torch)).replace("torch.", "")
    same_dtype(torch.angle(torch.arange(3)), gn.angle(gn.arange(3)))
    assert gn.finfo().dtype == torch.finfo().dtype == "float64" and gn.finfo().eps == torch.finfo().eps
    assert gn.finfo(gn.float32).eps == torch.finfo(torch.float32).eps


def _message(fn, T):
    with pytest.raises(Exception) as caught:
        fn(T)
    return caught.type, str(caught.value)


@pytest.mark.parametrize("name", ["int64", "int32", "int8", "uint8", "bool"])
def test_set_default_dtype_refuses_non_floating_dtypes(name):
    kind, text = _message(lambda T: T.set_default_dtype(getattr(T, name)), torch)
    ours, our_text = _message(lambda T: T.set_default_dtype(getattr(T, name)), gn)
    assert (ours, our_text) == (kind, text) == (TypeError, text)
    assert gn.get_default_dtype() is gn.float32


@pytest.mark.parametrize("value", ["float64", "torch.DoubleTensor", 1, None, float])
def test_set_default_dtype_refuses_non_dtypes(value):
    kind, text = _message(lambda T: T.set_default_dtype(value), torch)
    ours, our_text = _message(lambda T: T.set_default_dtype(value), gn)
    assert ours is kind is TypeError
    assert our_text.startswith(text)        # torch's words, then what to pass instead
    assert gn.get_default_dtype() is gn.float32


@pytest.mark.parametrize("name", ["torch.DoubleTensor", "torch.HalfTensor",
                                  "torch.BFloat16Tensor", "torch.FloatTensor", "DoubleTensor",
                                  "torch.LongTensor", "torch.float64", "torch.NoSuchTensor"])
def test_set_default_tensor_type_by_name(name):
    outcomes = []
    for T in (torch, gn):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                T.set_default_tensor_type(name)
                outcomes.append(("ok", str(T.get_default_dtype()).split(".")[-1]))
            except Exception as e:   # noqa: BLE001  (compared with torch's)
                outcomes.append((type(e), str(e).split(" (got")[0]))
    # torch warns once per process (TORCH_WARN_ONCE); graphnet on every call
    assert any("deprecated" in str(w.message) for w in seen)
    assert outcomes[0] == outcomes[1]


def test_set_default_tensor_type_by_class():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gn.set_default_tensor_type(gn.DoubleTensor)
        assert gn.get_default_dtype() is gn.float64 and gn.zeros(1).dtype is gn.float64
        with pytest.raises(TypeError, match="^only floating-point types are supported"):
            gn.set_default_tensor_type(gn.LongTensor)
        with pytest.raises(TypeError, match="^invalid type object: only floating-point"):
            gn.set_default_tensor_type(gn.float32)
        with pytest.raises(TypeError, match="^invalid type object: only floating-point"):
            torch.set_default_tensor_type(torch.float32)


def made(T):
    return T.zeros(2), T.tensor([1, 2.5]), T.arange(0.0, 1.0, 0.5), T.full((1,), 0.1), \
        T.randn(2), T.linspace(0, 1, 3)


def test_compiled_after_the_switch_matches_eager_and_torch():
    use("float64")
    compiled = gn.compile(lambda x: (x * 2,) + made(gn))
    outs = compiled(gn.ones(2, dtype=gn.int64))
    for ref, eager, ours in zip(made(torch), made(gn), outs[1:]):
        same_dtype(ref, ours)
        same_dtype(ref, eager)
    np.testing.assert_array_equal(outs[4].numpy(), torch.full((1,), 0.1).numpy())


def test_compiled_before_the_switch_follows_it():
    compiled = gn.compile(lambda x: (x + gn.zeros(2), gn.tensor([0.1]), gn.get_default_dtype()))
    x = gn.ones(2, dtype=gn.int64)
    first = compiled(x)
    assert first[0].dtype is gn.float32 and first[2] is gn.float32
    use("float64")
    second = compiled(x)
    assert second[0].dtype is gn.float64 and second[1].dtype is gn.float64
    assert second[2] is gn.float64
    assert second[1].item() == torch.tensor([0.1]).item()
    use("float32")
    third = compiled(x)
    assert third[0].dtype is gn.float32 and third[1].dtype is gn.float32


def test_compiled_model_made_after_the_switch():
    use("float64")
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2)
    model = gn.nn.Linear(3, 2)
    model.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3))
    expected = ref(torch.tensor(x)).detach().numpy()
    for out in (model(gn.tensor(x)), gn.compile(model)(gn.tensor(x))):
        assert out.dtype is gn.float64
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)


def test_switching_drops_the_eager_kernels():
    gn.zeros(2) + 1
    use("float64")
    assert gn.kernel_cache_info()["functions"] == 0


ARITHMETIC = {
    "int * 1.5": lambda T: T.tensor([1, 2]) * 1.5,
    "1.5 * int": lambda T: 1.5 * T.tensor([1, 2]),
    "int + 0.5": lambda T: T.tensor([1, 2]) + 0.5,
    "int ** 0.5": lambda T: T.tensor([1, 2]) ** 0.5,
    "bool * 1.5": lambda T: T.tensor([True]) * 1.5,
    "int / int": lambda T: T.tensor([1, 2]) / T.tensor([2, 2]),
    "clamp(int, 0.5)": lambda T: T.clamp(T.tensor([1, 2]), 0.5),
    "sin(int)": lambda T: T.sin(T.tensor([1, 2])),
    "sqrt(int)": lambda T: T.tensor([1, 4]).sqrt(),
    "atan2(int, int)": lambda T: T.atan2(T.tensor([1]), T.tensor([2])),
    "Tensor([1])": lambda T: T.Tensor([1]),
    "Tensor(2)": lambda T: T.Tensor(2),
}


@pytest.mark.parametrize("name", ["float64", "float16", "bfloat16"])
@pytest.mark.parametrize("case", sorted(ARITHMETIC))
@pytest.mark.parametrize("compiled", [False, True])
def test_integer_arithmetic_with_floats_follows_the_default(name, case, compiled):
    use(name)
    expected = ARITHMETIC[case](torch)
    fn = ARITHMETIC[case]
    got = gn.compile(lambda: fn(gn))() if compiled else fn(gn)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    if got.numel() and case != "Tensor(2)":
        np.testing.assert_allclose(got.float().numpy(), expected.float().numpy(), rtol=1e-2)
