"""shape_propagation: the graph is unchanged when types agree; a wrong type is named."""

import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import apply_pass, outputs_agree

import graphnet
from graphnet.compiler import VerifyError, trace
from graphnet.compiler.passes import BY_NAME, run_pipeline

NAME = "shape_propagation"


def step(x, w):
    loss = x.matmul(w).relu().sum()
    loss.backward()
    return loss


GOLDEN = """\
graph step(%x: f32[3,4], %w: f32[4,5]):
  %matmul: f32[3,5] = matmul(%x, %w)
  %relu: f32[3,5] = relu(%matmul)
  %sum: f32[] = sum(%relu, dim=None, keepdim=False, dtype=None)
  %grad: f32[4,5] = grad(%sum, %w, n_leaves=1, has_cotangent=False)
  return %sum
  grad w <- %grad"""


def inputs():
    return graphnet.randn(3, 4), graphnet.randn(4, 5, requires_grad=True)


def test_types_agree_and_the_graph_is_unchanged():
    before, after, _ = apply_pass(NAME, step, *inputs())
    assert before == after == GOLDEN
    _, stats = run_pipeline(trace(step, *inputs()), passes=[NAME])
    assert stats == ["shape_propagation: 4 nodes checked (4 -> 4 nodes)"]


def test_a_wrong_recorded_type_is_named():
    graph = trace(step, *inputs())
    graph.nodes[1].outputs[0].shape = (3, 6)
    with pytest.raises(VerifyError, match=r"node relu -> %relu: %relu is recorded as "
                                          r"f32\[3,6\] but computes float32\[3, 5\]"):
        BY_NAME[NAME](graph)


def test_a_grad_output_must_match_its_leaf():
    graph = trace(step, *inputs())
    graph.nodes[3].outputs[0].shape = (5, 4)
    with pytest.raises(VerifyError, match=r"node grad -> %grad: %grad is recorded as f32\[5,4\]"):
        BY_NAME[NAME](graph)


def test_numbers_with_and_without_the_pass():
    x, w = inputs()

    def make():
        w.grad = None
        return step, [w]

    outputs_agree(make, [x, w], NAME)


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_with_and_without_the_pass(model):
    seed_model_agrees(model, NAME)
