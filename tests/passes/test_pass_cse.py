"""common_subexpression_elimination: structure (golden text) and numbers."""

import numpy as np
import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import apply_pass, outputs_agree

import graphnet

NAME = "common_subexpression_elimination"


def twice(x):
    a = x.exp() * 2.0
    b = x.exp() * 2.0               # the same expression again: merged
    noise = graphnet.rand(3, 4)     # two draws that look alike: never merged
    more = graphnet.rand(3, 4)
    return a + b + noise + more


BEFORE = """\
graph twice(%x: f32[3,4]):
  state(%rng_state: u32[2])
  %exp: f32[3,4] = exp(%x)
  %mul: f32[3,4] = mul(%exp, 2.0)
  %exp_1: f32[3,4] = exp(%x)
  %mul_1: f32[3,4] = mul(%exp_1, 2.0)
  (%rng_split[0]: u32[2], %rng_split[1]: u32[2]) = rng_split(%rng_state)
  %uniform: f32[3,4] = uniform(%rng_split[1], shape=(3, 4), dtype=f32)
  (%rng_split_1[0]: u32[2], %rng_split_1[1]: u32[2]) = rng_split(%rng_split[0])
  %uniform_1: f32[3,4] = uniform(%rng_split_1[1], shape=(3, 4), dtype=f32)
  %add: f32[3,4] = add(%mul, %mul_1)
  %add_1: f32[3,4] = add(%add, %uniform)
  %add_2: f32[3,4] = add(%add_1, %uniform_1)
  return %add_2
  state rng_state <- %rng_split_1[0]"""

AFTER = """\
graph twice(%x: f32[3,4]):
  state(%rng_state: u32[2])
  %exp: f32[3,4] = exp(%x)
  %mul: f32[3,4] = mul(%exp, 2.0)
  (%rng_split[0]: u32[2], %rng_split[1]: u32[2]) = rng_split(%rng_state)
  %uniform: f32[3,4] = uniform(%rng_split[1], shape=(3, 4), dtype=f32)
  (%rng_split_1[0]: u32[2], %rng_split_1[1]: u32[2]) = rng_split(%rng_split[0])
  %uniform_1: f32[3,4] = uniform(%rng_split_1[1], shape=(3, 4), dtype=f32)
  %add: f32[3,4] = add(%mul, %mul)
  %add_1: f32[3,4] = add(%add, %uniform)
  %add_2: f32[3,4] = add(%add_1, %uniform_1)
  return %add_2
  state rng_state <- %rng_split_1[0]"""


def test_duplicates_merge_and_random_draws_do_not():
    before, after, _ = apply_pass(NAME, twice, graphnet.randn(3, 4))
    assert (before, after) == (BEFORE, AFTER)


def shared(x, w):
    h = x.matmul(w)
    return h.relu() + x.matmul(w).relu() * 2.0     # the matmul and relu again: merged


def test_numbers_with_and_without_the_pass():
    # (no random draws here: they are structurally checked above and slow to compile)
    outputs_agree(lambda: (shared, []), [graphnet.randn(3, 4), graphnet.randn(4, 5)], NAME)


def leaves(x):
    # Two leaves made by identical `full` nodes: merging them would swap gradients.
    w1 = graphnet.zeros(4, requires_grad=True)
    w2 = graphnet.zeros(4, requires_grad=True)
    loss = (x * w1).sum() + (x * x * w2).sum()
    loss.backward()
    return w1.grad, w2.grad


def test_grad_leaves_keep_their_identity():
    x = graphnet.randn(3, 4)
    _, _, graph = apply_pass(NAME, leaves, x)
    assert graph.count("full") == 2
    grad_w1, grad_w2 = graphnet.compile(leaves, debug=True)(x)
    np.testing.assert_allclose(np.asarray(grad_w1._value), np.asarray(x._value).sum(0),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(grad_w2._value),
                               (np.asarray(x._value) ** 2).sum(0), rtol=1e-6)
    outputs_agree(lambda: (leaves, []), [x], NAME)


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_with_and_without_the_pass(model):
    seed_model_agrees(model, NAME)
