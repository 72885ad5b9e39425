"""The eager kernel cache stays bounded when shapes vary, and eviction never changes numbers.

Counts compiled executables (what `jax.jit` holds per function), never process memory: the
memory itself is measured by `python -m graphnet.runtime.memory_bench`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import graphnet
import graphnet.nn.functional as F
from graphnet import _dispatch


@pytest.fixture
def small_cache():
    """A 16-executable budget for the test, from an empty cache (kernels earlier tests in
    this process compiled would otherwise count against it), then the previous one back."""
    previous = _dispatch.kernel_cache_info()["max_entries"]
    _dispatch.clear_kernel_cache()
    _dispatch.set_kernel_cache_size(16)
    yield _dispatch._kernels
    _dispatch.set_kernel_cache_size(previous)


def executables_held(cache) -> int:
    """What the cached jitted functions really hold now, asked of JAX itself."""
    return sum(fn._cache_size() for fn, _ in cache.entries.values())


def mlp_step(batch: int, w1, w2):
    """One eager forward + backward of a two-layer MLP on a new batch size."""
    rng = np.random.default_rng(batch)
    x = graphnet.from_numpy(rng.standard_normal((batch, 4), dtype=np.float32))
    y = graphnet.from_numpy(rng.integers(0, 3, batch).astype(np.int64))
    loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w1)), w2), y)
    loss.backward()
    return x, y, loss


def test_cache_stays_bounded_over_many_shapes(small_cache):
    w1 = graphnet.randn(5, 4, requires_grad=True)
    w2 = graphnet.randn(3, 5, requires_grad=True)
    evictions = small_cache.evictions
    for batch in range(1, 21):   # 20 batch sizes: about 8 new executables each
        mlp_step(batch, w1, w2)
        info = _dispatch.kernel_cache_info()
        assert info["entries"] <= 16, info
        assert executables_held(small_cache) <= 16 + len(small_cache.entries)
    assert small_cache.evictions > evictions
    assert executables_held(small_cache) <= 16


def test_numbers_after_eviction_equal_pytorch(small_cache):
    w1 = graphnet.randn(5, 4, requires_grad=True)
    w2 = graphnet.randn(3, 5, requires_grad=True)
    for batch in range(1, 16):
        mlp_step(batch, w1, w2)
    w1.grad = w2.grad = None
    x, y, loss = mlp_step(7, w1, w2)   # evicted: 8 sizes since, 4x the cache
    tw1 = torch.tensor(np.asarray(w1.detach()), requires_grad=True)
    tw2 = torch.tensor(np.asarray(w2.detach()), requires_grad=True)
    tx, ty = torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y))
    tloss = torch.nn.functional.cross_entropy(torch.relu(tx @ tw1.T) @ tw2.T, ty)
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(w1.grad), tw1.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(w2.grad), tw2.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_backward_after_the_whole_cache_was_cleared():
    x = graphnet.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    y = (F.relu(x) * x).sum()
    _dispatch.clear_kernel_cache()       # the tape keeps the VJPs it recorded
    y.backward()
    assert x.grad.tolist() == [[2.0, 0.0, 6.0]]


def test_fixed_shapes_compile_once_and_never_evict(small_cache):
    w1 = graphnet.randn(5, 4, requires_grad=True)
    w2 = graphnet.randn(3, 5, requires_grad=True)
    mlp_step(2, w1, w2)
    mlp_step(2, w1, w2)
    before = dict(_dispatch.kernel_cache_info())
    for _ in range(5):
        mlp_step(2, w1, w2)
    assert _dispatch.kernel_cache_info() == before


def test_least_recently_used_function_goes_first(small_cache):
    cold = graphnet.ones(3)
    graphnet.exp(cold)   # used once, then never again
    assert ("exp", ()) in small_cache.entries
    for n in range(1, 30):
        graphnet.sin(graphnet.ones(n))
    assert ("exp", ()) not in small_cache.entries
    assert ("sin", ()) in small_cache.entries


def test_eviction_keeps_other_jitted_functions_compiled(small_cache):
    # Compiled graphs are jitted functions outside this cache: evicting eager kernels must not
    # drop their executables (that is what jax.clear_caches() would do).
    outside = jax.jit(jnp.cos)
    outside(jnp.ones(3))
    for n in range(1, 30):
        graphnet.sin(graphnet.ones(n))
    assert small_cache.evictions > 0
    assert outside._cache_size() == 1


def test_cache_size_setting_is_checked(monkeypatch):
    for bad in (0, -3, 2.5, True, "64"):
        with pytest.raises(ValueError, match="positive int"):
            _dispatch.set_kernel_cache_size(bad)
    monkeypatch.setenv("GRAPHNET_KERNEL_CACHE_SIZE", "64")
    assert _dispatch._max_kernels_from_env() == 64
    monkeypatch.setenv("GRAPHNET_KERNEL_CACHE_SIZE", "lots")
    with pytest.raises(ValueError, match="GRAPHNET_KERNEL_CACHE_SIZE='lots'"):
        _dispatch._max_kernels_from_env()


def test_backward_accumulation_shares_the_eager_add_kernel():
    # Cotangents meeting at one tensor are summed with the `add` op's own eager kernel.
    x = graphnet.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (h * h + h).sum().backward()
    assert x.grad.tolist() == [21.0, 39.0]
    assert ("add", ()) in _dispatch._kernels.entries
