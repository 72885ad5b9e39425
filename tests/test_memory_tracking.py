"""graphnet.track_memory(): dynamic mode's peak of live buffers, checked against peaks counted
by hand. Every tensor here is 1000 float32 values, 4000 bytes, so each count is a sum of
4000s (plus 4-byte scalars where a loss is involved)."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet
from graphnet import _dispatch, _memory

N = 1000
BYTES = 4 * N    # one float32 tensor of N values


def _tensor(requires_grad: bool = False) -> graphnet.Tensor:
    values = np.random.default_rng(0).standard_normal(N).astype(np.float32)
    return graphnet.from_numpy(values).requires_grad_(requires_grad)


def test_peak_of_a_chain_is_two_tensors_alive_at_once():
    x = _tensor()
    with graphnet.track_memory() as m:
        a = x * 2          # a                 1 tensor above the baseline (x is in it)
        b = a + 1          # a, b              2  <- the peak
        del a              # b                 1
        c = b * 3          # b, c              2
        del b, c           # nothing           0
    assert m.peak_above_baseline == 2 * BYTES
    assert m.peak_bytes == m.baseline_bytes + 2 * BYTES
    assert m.baseline_bytes >= BYTES            # x was live before the block
    assert m.peak_at == "add"                   # the first time two were alive
    assert graphnet.live_bytes() == m.baseline_bytes   # all freed again


def test_the_tape_keeps_an_intermediate_that_no_grad_frees():
    x = _tensor(requires_grad=True)
    peaks = {}
    for grad in (True, False):
        with graphnet.set_grad_enabled(grad), graphnet.track_memory() as m:
            a = x * 2          # a
            b = a.exp()        # a, b              (exp's tape node saves a, its input)
            del a              # grad: a, b        no_grad: b
            c = b * 3          # grad: a, b, c     no_grad: b, c
            del b, c
        peaks[grad] = m.peak_above_baseline
    assert peaks == {True: 3 * BYTES, False: 2 * BYTES}


def test_backward_peak_counts_residuals_and_cotangents():
    x = _tensor(requires_grad=True)
    with graphnet.track_memory() as m:
        # t1 = x * 2 and t2 = t1.exp() stay alive as residuals (exp's node saves t1, sum's t2)
        loss = (x * 2).exp().sum()
        before = graphnet.live_bytes() - m.baseline_bytes
        loss.backward()
        after = graphnet.live_bytes() - m.baseline_bytes
    # Before backward: t1, t2 and the 4-byte loss.
    assert before == 2 * BYTES + 4
    # The peak is sampled after exp's VJP: t1, t2, the cotangents of t2 (from sum's VJP) and
    # of t1, the loss and backward's 4-byte seed of ones. Then exp's node frees t1, and
    # x.grad (one tensor) replaces the cotangents.
    assert m.peak_above_baseline == 4 * BYTES + 4 + 4
    assert m.peak_at == "exp backward"
    assert after == 2 * BYTES + 4            # t2 (sum's node lives with loss), loss, x.grad
    assert x.grad is not None


def test_the_probe_is_off_outside_a_block_even_after_an_error():
    assert _dispatch.memory_probe is None
    with pytest.raises(ValueError):
        with graphnet.track_memory():
            assert _dispatch.memory_probe is not None
            raise ValueError("boom")
    assert _dispatch.memory_probe is None


def test_blocks_nest_and_each_sees_its_own_baseline():
    x = _tensor()
    with graphnet.track_memory() as outer:
        a = x * 2
        with graphnet.track_memory() as inner:
            b = a + 1
            del b
        del a
    assert inner.baseline_bytes == outer.baseline_bytes + BYTES
    assert inner.peak_above_baseline == BYTES
    assert outer.peak_above_baseline == 2 * BYTES
    assert _dispatch.memory_probe is None


def test_a_block_runs_once_at_a_time():
    with graphnet.track_memory() as m:
        with pytest.raises(RuntimeError, match="already running"):
            m.__enter__()


def test_create_graph_backward_while_tracking_gives_the_same_numbers():
    def second_derivative():
        x = graphnet.tensor([1.0, 2.0], requires_grad=True)
        (g,) = graphnet.autograd.grad((x ** 3).sum(), x, create_graph=True)
        g.sum().backward()
        return x.grad.numpy()

    untracked = second_derivative()
    with graphnet.track_memory() as m:
        tracked = second_derivative()
    np.testing.assert_allclose(tracked, untracked)     # 6 * x
    np.testing.assert_allclose(tracked, [6.0, 12.0])
    assert m.samples > 5


def test_device_statistics_where_the_device_keeps_them(monkeypatch):
    stats = {"bytes_in_use": 1000, "peak_bytes_in_use": 5000}   # a GPU allocator, faked
    monkeypatch.setattr(_memory, "_device_stats", lambda: dict(stats))
    x = _tensor()
    with graphnet.track_memory() as m:
        stats["bytes_in_use"] = 3000     # read at the sample after the next op
        y = x * 2
        stats["bytes_in_use"] = 1000
        del y
    assert (m.device_baseline_bytes, m.device_peak_bytes) == (1000, 3000)
    with graphnet.track_memory() as m:
        stats["peak_bytes_in_use"] = 9000   # a new all-time peak: it happened in the block
    assert (m.device_baseline_bytes, m.device_peak_bytes) == (1000, 9000)


def test_device_figures_are_none_or_consistent():
    with graphnet.track_memory() as m:
        y = _tensor() * 2
        del y
    if m.device_baseline_bytes is None:           # CPU: the device keeps no statistics
        assert m.device_peak_bytes is None
    else:
        assert m.device_peak_bytes >= m.device_baseline_bytes


def test_two_arrays_over_one_buffer_count_once():
    import jax

    x = _tensor()
    with graphnet.track_memory() as m:
        shared = jax.dlpack.from_dlpack(x._value)      # a second jax.Array, same buffer
        assert shared is not x._value
        y = x * 2                                      # sampled with `shared` alive
        del shared, y
    assert m.peak_above_baseline == BYTES
