"""dead_code_elimination: structure (golden text) and numbers."""

import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import apply_pass, outputs_agree

import graphnet

NAME = "dead_code_elimination"


def unused(x):
    wasted = x.exp().sum()      # noqa: F841  (never used: removed)
    graphnet.rand(3)            # an unused draw: removed, but the RNG state still advances
    return x * 2


BEFORE = """\
graph unused(%x: f32[3]):
  state(%rng_state: u32[2])
  %exp: f32[3] = exp(%x)
  %sum: f32[] = sum(%exp, dim=None, keepdim=False, dtype=None)
  (%rng_split[0]: u32[2], %rng_split[1]: u32[2]) = rng_split(%rng_state)
  %uniform: f32[3] = uniform(%rng_split[1], shape=(3,), dtype=f32)
  %mul: f32[3] = mul(%x, 2)
  return %mul
  state rng_state <- %rng_split[0]"""

AFTER = """\
graph unused(%x: f32[3]):
  state(%rng_state: u32[2])
  (%rng_split[0]: u32[2], %rng_split[1]: u32[2]) = rng_split(%rng_state)
  %mul: f32[3] = mul(%x, 2)
  return %mul
  state rng_state <- %rng_split[0]"""


def test_unused_nodes_go_and_the_rng_still_advances():
    before, after, _ = apply_pass(NAME, unused, graphnet.randn(3))
    assert (before, after) == (BEFORE, AFTER)


def test_numbers_with_and_without_the_pass():
    def make():
        graphnet.manual_seed(0)
        return unused, [graphnet.default_generator.state]

    outputs_agree(make, [graphnet.randn(3)], NAME)


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_with_and_without_the_pass(model):
    seed_model_agrees(model, NAME)
