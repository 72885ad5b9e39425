"""Compiled calls from several threads (a thread pool serving a model): each call gets its own
input's answer while other threads trace new shapes (they saw each other's graph
placeholders and raised), and random draws from several threads are all distinct (threads
read one generator state and drew the same numbers)."""

import concurrent.futures as cf
import sys

import numpy as np
import pytest

import graphnet
from graphnet import nn


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)     # make the threads interleave often
    yield
    sys.setswitchinterval(old)


def test_thread_pool_calls_of_a_compiled_model_while_others_trace(fast_switching):
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4)).eval()
    fast = graphnet.compile(model)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((1 + i % 5, 8)).astype(np.float32) for i in range(20)]

    def infer(x):
        with graphnet.no_grad():
            return fast(graphnet.tensor(x)).numpy()
    with cf.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(infer, xs, timeout=300))
    with graphnet.no_grad():
        want = [model(graphnet.tensor(x)).numpy() for x in xs]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_random_draws_from_several_threads_are_distinct(compiled, fast_switching):
    graphnet.manual_seed(0)

    def draw(x):
        return graphnet.rand(4) + x
    fn = graphnet.compile(draw) if compiled else draw
    fn(graphnet.zeros(4))          # traced before the threads start
    with cf.ThreadPoolExecutor(4) as pool:
        rows = list(pool.map(lambda _: tuple(fn(graphnet.zeros(4)).tolist()), range(120),
                             timeout=300))
    assert len(set(rows)) == 120
