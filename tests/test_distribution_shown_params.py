"""Categorical's and Bernoulli's repr as PyTorch's: the parameter given, and the other one
once it was read (PyTorch computes it lazily and stores it then), by the user or by a method
that reads it (mean, sample, entropy, a KL divergence ...); expand keeps what was shown."""

from __future__ import annotations

import pytest
from parity import torch

import graphnet


def _steps(D, T):
    """(name, build, what to do before repr) for each case."""
    return [
        ("logits", lambda: D.Categorical(logits=T([0.0, 1.0, 2.0])), lambda d: None),
        ("read probs", lambda: D.Categorical(logits=T([0.0, 1.0, 2.0])), lambda d: d.probs),
        ("sample", lambda: D.Categorical(logits=T([0.0, 1.0, 2.0])), lambda d: d.sample()),
        ("mean", lambda: D.Categorical(logits=T([0.0, 1.0, 2.0])), lambda d: d.mean),
        ("log_prob", lambda: D.Categorical(logits=T([0.0, 1.0])), lambda d: d.log_prob(T(1))),
        ("log_prob p", lambda: D.Categorical(probs=T([1.0, 1.0])), lambda d: d.log_prob(T(1))),
        ("entropy", lambda: D.Categorical(probs=T([1.0, 1.0, 1.0])), lambda d: d.entropy()),
        ("shape only", lambda: D.Categorical(probs=T([1.0, 1.0])),
         lambda d: (d.enumerate_support(), d.param_shape, d.support)),
        ("read logits", lambda: D.Categorical(probs=T([[1.0, 2.0]])), lambda d: d.logits),
        ("bernoulli", lambda: D.Bernoulli(logits=T([0.0, 1.0])), lambda d: None),
        ("b sample", lambda: D.Bernoulli(logits=T([0.0, 1.0])), lambda d: d.sample()),
        ("b mean", lambda: D.Bernoulli(logits=T([0.0, 1.0])), lambda d: d.mean),
        ("b log_prob", lambda: D.Bernoulli(probs=T([0.5, 0.5])),
         lambda d: d.log_prob(T([1.0, 0.0]))),
        ("b shape only", lambda: D.Bernoulli(probs=T([0.5, 0.5])),
         lambda d: (d.enumerate_support(), d.param_shape)),
        ("b entropy", lambda: D.Bernoulli(probs=T([0.5, 0.5])), lambda d: d.entropy()),
        ("b scalar", lambda: D.Bernoulli(logits=T(0.25)), lambda d: d.probs),
        ("one-hot", lambda: D.OneHotCategorical(logits=T([0.0, 1.0])),
         lambda d: (d.probs, d.sample())),
    ]


@pytest.mark.parametrize("k", range(17))
def test_repr_shows_the_parameters_read_as_pytorch(k):
    reprs = []
    for lib in (torch, graphnet):
        _, build, use = _steps(lib.distributions, lib.tensor)[k]
        d = build()
        use(d)
        reprs.append(repr(d).replace("graphnet.", "torch."))
    assert reprs[1] == reprs[0]


def test_expand_keeps_what_was_shown_and_a_kl_divergence_shows_both():
    out = []
    for lib in (torch, graphnet):
        D, T = lib.distributions, lib.tensor
        c = D.Categorical(probs=T([1.0, 1.0, 1.0]))
        e = c.expand((2,))
        shown = [repr(e)]
        _ = e.logits   # a read shows it
        shown += [repr(e), repr(c)]
        _ = c.logits
        shown.append(repr(c.expand((2,))))
        p, q = D.Bernoulli(logits=T([0.0, 0.0])), D.Bernoulli(probs=T([0.5, 0.5]))
        D.kl_divergence(p, q)
        shown += [repr(p), repr(q)]
        out.append([s.replace("graphnet.", "torch.") for s in shown])
    assert out[1] == out[0]
    assert out[0][0] == "Categorical(probs: torch.Size([2, 3]))"
