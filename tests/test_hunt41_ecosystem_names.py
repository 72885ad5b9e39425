"""Names training scripts call outside nn/optim: the torch.cuda memory and device helpers
answer as PyTorch's do without a GPU (0 bytes, no-ops), and torch.autograd.profiler's
record_function labels a region as a no-op while profile refuses with the way to profile."""
import pytest
import torch

import graphnet as G


def test_cuda_helpers_without_a_gpu_answer_like_torch():
    if G.cuda.is_available():
        pytest.skip("a GPU is present: the figures are the device's")
    for lib in (torch, G):
        assert lib.cuda.empty_cache() is None
        assert lib.cuda.memory_allocated() == lib.cuda.max_memory_allocated() == 0
        assert lib.cuda.memory_reserved() == 0
        assert lib.cuda.is_bf16_supported() is False
        assert lib.cuda.get_rng_state_all() == []
        assert lib.cuda.set_rng_state_all([]) is None
    assert G.cuda.max_memory_reserved() == 0 and G.cuda.reset_peak_memory_stats() is None
    with pytest.raises(RuntimeError, match="JAX sees 0 GPU"):
        G.cuda.set_device(0)


def test_record_function_runs_the_code_and_profile_refuses():
    from graphnet.autograd.profiler import record_function

    with G.autograd.profiler.record_function("forward") as region:
        out = G.ones(2) * 3
    assert region.name == "forward" and out.tolist() == [3.0, 3.0]

    @record_function("step")
    def step(x):
        return x + 1

    assert step(G.ones(1)).tolist() == [2.0]
    with pytest.raises(NotImplementedError, match="jax.profiler.trace"):
        G.autograd.profiler.profile()
