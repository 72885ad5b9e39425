"""Process settings as torch checks and applies them: thread counts, deterministic mode
(and the uninitialised memory it fills), dtype.to_real, Size's items, `with device(...)`,
cudnn.flags and opt_einsum."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet import _settings


def _error(call):
    try:
        call()
    except Exception as error:   # noqa: BLE001  (the type and message are compared)
        return type(error), str(error).split("\n")[0]
    return None


@pytest.fixture
def restored():
    state = dict(_settings._STATE)
    yield
    _settings._STATE.clear()
    _settings._STATE.update(state)
    torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("call", [
    lambda L: L.set_deterministic_debug_mode("warning"),
    lambda L: L.set_deterministic_debug_mode(7),
    lambda L: L.set_deterministic_debug_mode(None),
    lambda L: L.set_num_threads(2.5),
    lambda L: L.set_num_threads("2"),
    lambda L: L.set_num_threads(True),
    lambda L: L.set_num_threads(0),
    lambda L: L.use_deterministic_algorithms("yes"),
    lambda L: L.use_deterministic_algorithms(1),
    lambda L: L.use_deterministic_algorithms(True, warn_only=1),
    lambda L: L.set_num_interop_threads(0),
    lambda L: L.set_num_interop_threads(-3),
])
def test_bad_settings_raise_as_torch(call, restored):
    want = _error(lambda: call(torch))
    assert want is not None
    assert _error(lambda: call(gn)) == want
    assert not gn.are_deterministic_algorithms_enabled()


def test_debug_mode_round_trip_and_interop_once(restored):
    for mode in ("warn", 2, "default", True):
        gn.set_deterministic_debug_mode(mode)
        torch.set_deterministic_debug_mode(mode)
        assert gn.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
    _settings._STATE.pop("interop_set", None)
    gn.set_num_interop_threads(2)
    assert gn.get_num_interop_threads() == 2
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        gn.set_num_interop_threads(3)


def test_deterministic_mode_fills_uninitialized_memory_as_torch(restored):
    import graphnet.utils.deterministic as deterministic

    def made(L):
        return [L.empty(3), L.empty(2, dtype=L.int32), L.empty_like(L.ones(2)),
                L.empty(2, dtype=L.bool), L.empty(2, dtype=L.uint8), L.ones(3).new_empty(2),
                L.empty_strided((2,), (1,))]

    for lib in (torch, gn):
        lib.use_deterministic_algorithms(True)
    for got, want in zip(made(gn), made(torch)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    f = gn.compile(lambda x: gn.empty_like(x) + x)
    assert np.isnan(f(gn.ones(2)).numpy()).all()
    deterministic.fill_uninitialized_memory = False
    try:
        assert f(gn.ones(2)).tolist() == [1.0, 1.0]     # recompiled, not the NaN program
        assert gn.empty(2).tolist() == [0.0, 0.0]
    finally:
        deterministic.fill_uninitialized_memory = True
    gn.use_deterministic_algorithms(False)
    assert f(gn.ones(2)).tolist() == [1.0, 1.0] and gn.empty(2).tolist() == [0.0, 0.0]


def test_matmul_precision_typo_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
        gn.set_float32_matmul_precision("low")
    assert gn.get_float32_matmul_precision() == torch.get_float32_matmul_precision()


def test_dtype_to_real_and_to_complex():
    for name in ("float32", "int64", "bool", "float16"):
        assert repr(getattr(gn, name).to_real()) == repr(getattr(torch, name).to_real()) \
            .replace("torch", "graphnet")
    assert _error(gn.int64.to_complex) == _error(torch.int64.to_complex)
    with pytest.raises(TypeError, match="graphnet has no complex dtypes"):
        gn.float32.to_complex()


def test_size_takes_its_items_as_ints_as_torch():
    size = gn.Size([gn.tensor(3), 4])
    assert size == torch.Size([torch.tensor(3), 4]) == (3, 4)
    assert type(size[0]) is int and size.numel() == 12 and {(3, 4): "hit"}[size] == "hit"
    assert gn.Size([True, np.int64(2)]) == torch.Size([True, np.int64(2)]) == (1, 2)
    for items in ([1.5], ["a"]):
        assert _error(lambda: gn.Size(items)) == _error(lambda: torch.Size(items))
    assert gn.ones(2, 3).shape[1:] == (3,) and isinstance(gn.ones(2).shape[1:], gn.Size)


def test_device_as_a_context_sets_the_default_device():
    before = gn.get_default_device()
    with gn.device("cpu") as where:
        assert where == gn.device("cpu") and gn.get_default_device() == gn.device("cpu")
        assert gn.empty(2).device == gn.device("cpu")
    assert gn.get_default_device() == before
    assert gn._device._default_device is None


def test_cudnn_flags_and_opt_einsum_as_torch():
    for lib in (torch, gn):
        with lib.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=True):
            assert lib.backends.cudnn.benchmark and lib.backends.cudnn.deterministic
        assert not lib.backends.cudnn.benchmark and not lib.backends.cudnn.deterministic
        assert lib.backends.opt_einsum.is_available() and lib.backends.opt_einsum.enabled
        with lib.backends.opt_einsum.flags(strategy="greedy"):
            assert lib.backends.opt_einsum.strategy == "greedy"
        assert lib.backends.opt_einsum.strategy == "auto"
        assert lib.backends.opt_einsum.get_opt_einsum().__name__ == "opt_einsum"
