"""Everyday CUDA boilerplate on a machine without a GPU, as PyTorch built without CUDA
answers it: seeding the GPU leaves the CPU stream alone, GPU-only calls raise, the names
scripts touch exist, and the legacy constructors check their arguments."""

import numpy as np
import pytest
import torch

import graphnet as gn

pytestmark = pytest.mark.skipif(gn.cuda.is_available(), reason="answers for a CPU-only JAX")


def test_cuda_seeding_leaves_the_cpu_stream_alone():
    for lib in (torch, gn):
        lib.manual_seed(0)
        first = lib.randn(3)
        want = lib.randn(3).numpy()
        lib.manual_seed(0)
        np.testing.assert_array_equal(lib.randn(3).numpy(), first.numpy())
        lib.cuda.manual_seed_all(123)
        lib.cuda.manual_seed(5)
        lib.cuda.seed_all()
        np.testing.assert_array_equal(lib.randn(3).numpy(), want)


@pytest.mark.parametrize("call", [
    lambda T: T.cuda.synchronize(), lambda T: T.cuda.initial_seed(),
    lambda T: T.cuda.get_device_properties(0), lambda T: T.cuda.ipc_collect(),
    lambda T: T.cuda.get_device_capability()])
def test_gpu_only_calls_raise_as_in_torch(call):
    for lib in (torch, gn):
        with pytest.raises(AssertionError):
            call(lib)


@pytest.mark.parametrize("call", [
    lambda T: T.device(0), lambda T: T.cuda.Stream(), lambda T: T.cuda.Event(),
    lambda T: T.ones(2).type("torch.cuda.FloatTensor")])
def test_gpu_objects_raise_runtime_errors(call):
    for lib in (torch, gn):
        with pytest.raises(RuntimeError):
            call(lib)


def test_names_scripts_touch_exist():
    assert gn.cuda.is_initialized() is torch.cuda.is_initialized() is False
    with gn.cuda.device(-1):
        pass
    assert gn.cuda.FloatTensor.is_cuda and not gn.FloatTensor.is_cuda
    assert not isinstance(gn.ones(2), gn.cuda.FloatTensor)
    with pytest.raises(TypeError, match="torch.cuda.FloatTensor not available"):
        gn.cuda.FloatTensor([1.0])
    assert gn.backends.cuda.preferred_linalg_library() is not None


def test_legacy_tensor_constructor_checks_as_torch():
    assert gn.Tensor([1.0, 2.0], device="cpu").tolist() == [1.0, 2.0]
    for lib in (torch, gn):
        with pytest.raises(TypeError, match="data must be a sequence"):
            lib.Tensor(2.5)
    assert gn.Tensor(2, 3).shape == torch.Tensor(2, 3).shape
