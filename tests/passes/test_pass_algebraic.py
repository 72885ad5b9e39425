"""algebraic_simplification: structure (golden text) and numbers."""

import numpy as np
import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import apply_pass, outputs_agree

import graphnet
from graphnet._dispatch import dispatch

NAME = "algebraic_simplification"


def identities(x):
    a = (x * 1) / 1 - 0                          # x*1, x/1, x-0
    b = (1 * a + 0).reshape(3, 4)                # 1*x, x+0, reshape to its own shape
    c = b.reshape(12).reshape(2, 6)              # reshape of reshape
    d = c.transpose(0, 1).transpose(1, 0)        # transpose undone
    e = d.permute(1, 0).permute(1, 0)            # permute undone
    f = dispatch("cast", e, dtype=np.dtype(np.float32))        # cast to its own dtype
    wider = x * graphnet.ones(3, 4, dtype=graphnet.float64)    # promotes to f64: kept
    broadcast = x.reshape(12) + graphnet.zeros(2, 12)          # broadcasts: kept
    return f, wider, broadcast


BEFORE = """\
graph identities(%x: f32[3,4]):
  %mul: f32[3,4] = mul(%x, 1)
  %div: f32[3,4] = div(%mul, 1)
  %sub: f32[3,4] = sub(%div, 0)
  %mul_1: f32[3,4] = mul(1, %sub)
  %add: f32[3,4] = add(%mul_1, 0)
  %reshape: f32[3,4] = reshape(%add, shape=(3, 4))
  %reshape_1: f32[12] = reshape(%reshape, shape=(12,))
  %reshape_2: f32[2,6] = reshape(%reshape_1, shape=(2, 6))
  %transpose: f32[6,2] = transpose(%reshape_2, dim0=0, dim1=1)
  %transpose_1: f32[2,6] = transpose(%transpose, dim0=1, dim1=0)
  %permute: f32[6,2] = permute(%transpose_1, dims=(1, 0))
  %permute_1: f32[2,6] = permute(%permute, dims=(1, 0))
  %cast: f32[2,6] = cast(%permute_1, dtype=f32)
  %full: f64[3,4] = full(shape=(3, 4), value=1, dtype=f64)
  %mul_2: f64[3,4] = mul(%x, %full)
  %reshape_3: f32[12] = reshape(%x, shape=(12,))
  %full_1: f32[2,12] = full(shape=(2, 12), value=0.0, dtype=f32)
  %add_1: f32[2,12] = add(%reshape_3, %full_1)
  return %cast, %mul_2, %add_1"""

# The replaced nodes are gone (the reshape to its own shape too: since the thirty-third
# session it is a view, a node, as in PyTorch); `reshape`, `transpose`, `permute` now read
# inputs that make them dead, which dead_code_elimination removes.
AFTER = """\
graph identities(%x: f32[3,4]):
  %reshape_1: f32[12] = reshape(%x, shape=(12,))
  %reshape_2: f32[2,6] = reshape(%x, shape=(2, 6))
  %transpose: f32[6,2] = transpose(%reshape_2, dim0=0, dim1=1)
  %permute: f32[6,2] = permute(%reshape_2, dims=(1, 0))
  %full: f64[3,4] = full(shape=(3, 4), value=1, dtype=f64)
  %mul_2: f64[3,4] = mul(%x, %full)
  %reshape_3: f32[12] = reshape(%x, shape=(12,))
  %full_1: f32[2,12] = full(shape=(2, 12), value=0.0, dtype=f32)
  %add_1: f32[2,12] = add(%reshape_3, %full_1)
  return %reshape_2, %mul_2, %add_1"""


def test_identities_become_their_input():
    before, after, _ = apply_pass(NAME, identities, graphnet.randn(3, 4))
    assert (before, after) == (BEFORE, AFTER)


def test_numbers_with_and_without_the_pass():
    outputs_agree(lambda: (identities, []), [graphnet.randn(3, 4)], NAME)


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_with_and_without_the_pass(model):
    seed_model_agrees(model, NAME)
