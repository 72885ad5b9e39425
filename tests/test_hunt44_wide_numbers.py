"""Python numbers at the edge of a dtype, read as PyTorch reads them in both modes: an int from
2**63 to 2**64 - 1 beside a tensor (FNV-1a's offset basis, a 64-bit mask, `x * 2**63`) is its
64-bit two's complement beside an integer tensor and a float beside a float one (JAX refused it
with an OverflowError), and F.pad's constant refuses a value its dtype cannot hold (uint8 and
-1 included) with PyTorch's RuntimeError (NumPy's OverflowError escaped before)."""

import pytest
import torch

import graphnet

_CASES = {
    "xor_fnv_basis": lambda T, x: x ^ 0xcbf29ce484222325,
    "and_mask": lambda T, x: x & 0xFFFFFFFFFFFFFFFF,
    "or_top_bit": lambda T, x: x | 2**63,
    "float_scale": lambda T, x: x.float() * 2**63,
    "double_scale": lambda T, x: x.double() * (2**64 - 1),
    "add_wraps": lambda T, x: x + 2**63,
    "sub_wraps": lambda T, x: x - 2**63,
    "reflected_sub": lambda T, x: 2**63 - x,
    "floor_divide": lambda T, x: x // 2**63,
    "equal": lambda T, x: x == 2**63,
    "int32_narrows": lambda T, x: x.int() + 2**63,
    "uint8_narrows": lambda T, x: x.to(T.uint8) + (2**64 - 1),
    "fnv_hash_step": lambda T, x: (x ^ 0xcbf29ce484222325) * 0x100000001b3,
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", sorted(_CASES))
def test_wide_python_int_reads_as_torch_does(name, compiled):
    case = _CASES[name]
    want = case(torch, torch.tensor([1, -1, 12345, 2**62]))
    fn = (lambda x: case(graphnet, x))
    if compiled:
        fn = graphnet.compile(fn)
    got = fn(graphnet.tensor([1, -1, 12345, 2**62]))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.tolist() == want.tolist()


def test_bool_tensor_refuses_uint64_number():
    for T in (torch, graphnet):
        with pytest.raises(RuntimeError, match="attempted to promote Bool and UInt64"):
            T.tensor([True, False]) + 2**63


def test_int_past_64_bits_still_overflows():
    with pytest.raises(OverflowError):
        torch.tensor([1]) * 2**64
    with pytest.raises(OverflowError):
        graphnet.tensor([1]) * 2**64


def _outcome(T, dtype_name, value, compiled=False):
    def padded():
        x = T.zeros(2, dtype=getattr(T, dtype_name))
        return T.nn.functional.pad(x, (1, 1), value=value)
    try:
        return (T.compile(padded) if compiled else padded)().tolist()
    except Exception as error:   # noqa: BLE001  (the type and message are what is compared)
        return type(error).__name__, str(error)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dtype_name, value", [
    ("uint8", 300), ("uint8", -1), ("uint8", -255), ("uint8", 255), ("uint8", 1.5),
    ("uint8", 255.5), ("uint8", float("nan")), ("int8", 200), ("int8", -128), ("int8", -129),
    ("float16", 1e6), ("float32", -1.0)])
def test_pad_value_refused_as_torch_does(dtype_name, value, compiled):
    want = _outcome(torch, dtype_name, value)
    got = _outcome(graphnet, dtype_name, value, compiled)
    if isinstance(want, tuple):
        assert got == ("RuntimeError", want[1])
    else:
        assert got == want
