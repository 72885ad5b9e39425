"""Random-number state read or set inside compiled code follows each call as the eager code
does: `seed()` (fresh host entropy) is refused rather than repeated, `initial_seed()` is a
guard; randperm's float range checks and gumbel_softmax's exact one-hot match PyTorch."""
import numpy as np
import pytest
import torch

import graphnet as G


def test_seed_inside_a_compiled_function_is_refused():
    fn = G.compile(lambda x: x + G.seed() * 0 + G.rand(3))
    with pytest.raises(G.TraceError, match="fresh entropy"):
        fn(G.zeros(3))
    gen = G.Generator()
    fn = G.compile(lambda x: x + gen.seed() * 0)
    with pytest.raises(G.TraceError, match="fresh entropy"):
        fn(G.zeros(1))
    assert isinstance(G.seed(), int)   # eagerly, as before


@pytest.mark.parametrize("use_generator", [False, True])
def test_initial_seed_read_in_a_compiled_function_follows_manual_seed(use_generator):
    gen = G.Generator() if use_generator else G.default_generator
    fn = G.compile(lambda x: x + gen.initial_seed())
    got = []
    for seed in (5, 6, 6, 9):
        gen.manual_seed(seed)
        got.append(float(fn(G.zeros(1))))
    assert got == [5.0, 6.0, 6.0, 9.0]


def test_set_rng_state_of_a_float_tensor_is_a_type_error():
    for lib in (torch, G):
        with pytest.raises(TypeError, match="RNG state must be a"):
            lib.set_rng_state(lib.zeros(8))


def test_randperm_refuses_more_values_than_the_float_dtype_holds():
    for lib in (torch, G):
        with pytest.raises(RuntimeError, match="n cannot be greater than 2049 for Half type"):
            lib.randperm(2050, dtype=lib.float16)
        r = lib.randperm(2049, dtype=lib.float16)
        assert len(set(r.tolist())) == 2049
        assert len(set(lib.randperm(3000, dtype=lib.bfloat16).tolist())) > 0   # unchecked


@pytest.mark.parametrize("static", [False, True])
def test_hard_gumbel_softmax_is_an_exact_one_hot(static):
    G.manual_seed(0)
    logits = G.tensor(np.random.default_rng(0).standard_normal((64, 10)).astype(np.float32),
                      requires_grad=True)

    def f(z):
        return G.nn.functional.gumbel_softmax(z, tau=0.7, hard=True)

    out = (G.compile(f) if static else f)(logits)
    values = out.detach().numpy()
    assert set(np.unique(values).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(values.sum(1), np.ones(64, np.float32))
