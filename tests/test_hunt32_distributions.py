"""Distributions of float16 and bfloat16 parameters, as torch's (thirty-second session's RL
hunt): probabilities were clamped with float64's eps, which rounds to 0 there (an infinite
logit, a NaN log_prob), and Categorical's entropy clamped with float32's minimum, which
overflows them (a RuntimeError under autocast)."""

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_probabilities_are_clamped_with_their_own_eps(compile_, dtype):
    def values(lib, run):
        def f(cp, bp, sample):
            c = lib.distributions.Categorical(probs=cp)
            b = lib.distributions.Bernoulli(probs=bp)
            return c.logits, b.logits, b.log_prob(sample), c.entropy()

        dt = getattr(lib, dtype)
        out = run(f)(lib.tensor([0.0, 0.25, 0.75], dtype=dt),
                     lib.tensor([0.0, 0.3, 1.0], dtype=dt), lib.tensor([1.0, 0.0, 0.0], dtype=dt))
        return [t.float().numpy() for t in out]

    for got, expected in zip(values(gn, compile_), values(torch, lambda f: f)):
        np.testing.assert_allclose(got, expected, rtol=1e-2)
        assert np.isfinite(got).all()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_logits_entropy(dtype):
    got, expected = (lib.distributions.Categorical(logits=lib.tensor(
        [[0.0, 0.25, 0.75]], dtype=getattr(lib, dtype))).entropy().float().item()
        for lib in (gn, torch))
    assert got == pytest.approx(expected, rel=1e-3)
