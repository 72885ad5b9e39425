"""`get_rng_state` / `set_rng_state` replay draws as in PyTorch; `graphnet.cuda` answers the
usual device boilerplate from JAX's backends."""

import jax
import numpy as np
import pytest

import graphnet


def test_rng_state_round_trip_replays_the_same_draws():
    graphnet.manual_seed(3)
    state = graphnet.get_rng_state()
    assert state.dtype == graphnet.uint8 and state.dim() == 1
    first = graphnet.randn(4).numpy()
    graphnet.randn(2)                                   # move on
    graphnet.set_rng_state(state)
    np.testing.assert_array_equal(graphnet.randn(4).numpy(), first)
    live = graphnet.get_rng_state()
    live.zero_()                                        # a copy: the generator is unaffected
    assert graphnet.get_rng_state().numpy().any()


def test_generator_state_and_dropout_replay():
    g = graphnet.Generator().manual_seed(5)
    saved = g.get_state()
    a = graphnet.randn(3, generator=g).numpy()
    g.set_state(saved)
    np.testing.assert_array_equal(graphnet.randn(3, generator=g).numpy(), a)
    graphnet.manual_seed(0)
    state = graphnet.get_rng_state()
    drop = graphnet.nn.functional.dropout(graphnet.ones(64), 0.5).numpy()
    graphnet.set_rng_state(state)
    np.testing.assert_array_equal(graphnet.nn.functional.dropout(graphnet.ones(64), 0.5).numpy(),
                                  drop)


def test_set_rng_state_refuses_a_foreign_state():
    with pytest.raises(RuntimeError, match="uint8 tensor of shape"):
        graphnet.set_rng_state(graphnet.zeros(5056, dtype=graphnet.uint8))   # torch's size
    with pytest.raises(TypeError, match="RNG state must be a graphnet.ByteTensor"):
        graphnet.set_rng_state(graphnet.zeros(5056))     # a float tensor: PyTorch's TypeError


def test_cuda_answers_from_jax_backends():
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    assert graphnet.cuda.is_available() == bool(gpus)
    assert graphnet.cuda.device_count() == len(gpus)
    graphnet.manual_seed(7)
    a = graphnet.rand(3).numpy()
    graphnet.manual_seed(7)
    graphnet.cuda.manual_seed_all(8)   # the GPU's: with one, graphnet's one generator
    if gpus:
        graphnet.manual_seed(8)
        a = graphnet.rand(3).numpy()
        graphnet.cuda.manual_seed_all(8)
    np.testing.assert_array_equal(graphnet.rand(3).numpy(), a)
    device = "cuda" if graphnet.cuda.is_available() else "cpu"
    assert graphnet.zeros(2).to(device).shape == (2,)
    if not gpus:
        with pytest.raises(RuntimeError, match="JAX sees no GPU"):
            graphnet.cuda.current_device()
