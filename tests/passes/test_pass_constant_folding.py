"""constant_folding: structure (golden text) and numbers."""

import numpy as np
import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import apply_pass, outputs_agree

import graphnet
from graphnet._ops.constant import ConstantValue

NAME = "constant_folding"


def folded(x):
    scale = graphnet.arange(4).float() * 0.5 + 1.0    # known at compile time: folded
    big = graphnet.ones(400, 300) * 2.0                 # 120,000 elements: left to run time
    return x * scale + big.sum()


AFTER = """\
graph folded(%x: f32[3,4]):
  %arange: i64[4] = arange(start=0, end=4, step=1, dtype=i64)
  %constant: f32[4] = constant(value=f32[4] [0.0, 1.0, 2.0, 3.0])
  %constant_1: f32[4] = constant(value=f32[4] [0.0, 0.5, 1.0, 1.5])
  %constant_2: f32[4] = constant(value=f32[4] [1.0, 1.5, 2.0, 2.5])
  %full: f32[400,300] = full(shape=(400, 300), value=1.0, dtype=f32)
  %mul_1: f32[400,300] = mul(%full, 2.0)
  %mul_2: f32[3,4] = mul(%x, %constant_2)
  %sum: f32[] = sum(%mul_1, dim=None, keepdim=False, dtype=None)
  %add_1: f32[3,4] = add(%mul_2, %sum)
  return %add_1"""


def test_small_known_values_fold_and_big_ones_do_not():
    before, after, _ = apply_pass(NAME, folded, graphnet.randn(3, 4))
    assert "%cast: f32[4] = cast(%arange, dtype=f32)" in before
    assert "%add: f32[4] = add(%mul, 1.0)" in before
    assert after == AFTER    # the now-unused arange and constants are left to DCE


def test_numbers_with_and_without_the_pass():
    outputs_agree(lambda: (folded, []), [graphnet.randn(3, 4)], NAME)


def test_constant_values_are_hashable_and_print_briefly():
    small = ConstantValue(np.arange(3, dtype=np.int32))
    assert small == ConstantValue(np.arange(3, dtype=np.int32))
    assert hash(small) == hash(ConstantValue(np.arange(3, dtype=np.int32)))
    assert small != ConstantValue(np.arange(3, dtype=np.int64))
    assert repr(small) == "i32[3] [0, 1, 2]"
    assert repr(ConstantValue(np.zeros((10, 10), np.float32))).startswith("f32[10,10] sha1:")


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_with_and_without_the_pass(model):
    seed_model_agrees(model, NAME)


@pytest.mark.parametrize("mode", ["static", "plan"])
def test_a_folded_scalar_keeps_its_shape(mode):
    """A 0-d result folded to a constant was stored 1-d (numpy's ascontiguousarray makes
    every array at least 1-d), so the compiled call returned shape (1,) and broadcast it on."""
    assert ConstantValue(np.float32(3.0)).array().shape == ()

    def f(x):
        known = graphnet.ones(()).sum() * 2.0          # folded to a 0-d constant
        return known, x.sum() + known

    out = graphnet.compile(f, mode=mode)(graphnet.ones(()))
    assert [tuple(t.shape) for t in out] == [(), ()]
    assert [t.item() for t in out] == [2.0, 3.0]
