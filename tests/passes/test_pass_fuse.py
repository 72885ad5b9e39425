"""fuse_kernels: kernels by fusion kind (golden plan text) and numbers, fused vs unfused."""

import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import outputs_agree

import graphnet
from graphnet.compiler import trace
from graphnet.compiler.passes import run_pipeline

NAME = "fuse_kernels"


def blocks(x, w):
    h = (x.matmul(w) + 1.0).relu()          # a contraction and its epilogue
    s = (x.exp() * 2.0).sum(1)              # a reduction and its prologue
    c = graphnet.cat([h, h], 1)             # opaque: a kernel alone
    return c.tanh().mean(1) + s


UNFUSED = """\
plan blocks: 10 kernels
  k0 contraction[matmul](%x, %w) -> (%matmul)  flops=120 bytes=188
  k1 elementwise[add](%matmul) -> (%add)  flops=15 bytes=120
  k2 elementwise[relu](%add) -> (%relu)  flops=15 bytes=120
  k3 elementwise[exp](%x) -> (%exp)  flops=12 bytes=96
  k4 elementwise[mul](%exp) -> (%mul)  flops=12 bytes=96
  k5 reduction[sum](%mul) -> (%sum)  flops=12 bytes=60
  k6 opaque[cat](%relu) -> (%cat)  flops=30 bytes=180
  k7 elementwise[tanh](%cat) -> (%tanh)  flops=30 bytes=240
  k8 reduction[mean](%tanh) -> (%mean)  flops=30 bytes=132
  k9 elementwise[add_1](%mean, %sum) -> (%add_1)  flops=3 bytes=36
  memory: not planned (plan_memory did not run)"""

FUSED = """\
plan blocks: 5 kernels
  k0 contraction[matmul, add, relu](%x, %w) -> (%relu)  flops=150 bytes=188
  k1 reduction[exp, mul, sum](%x) -> (%sum)  flops=36 bytes=60
  k2 opaque[cat](%relu) -> (%cat)  flops=30 bytes=180
  k3 reduction[tanh, mean](%cat) -> (%mean)  flops=60 bytes=132
  k4 elementwise[add_1](%mean, %sum) -> (%add_1)  flops=3 bytes=36
  memory: not planned (plan_memory did not run)"""


def test_kernels_by_fusion_kind():
    graph = trace(blocks, graphnet.randn(3, 4), graphnet.randn(4, 5))
    unfused, _ = run_pipeline(graph, passes=[], debug=True)
    fused, stats = run_pipeline(graph, passes=[NAME], debug=True)
    assert (str(unfused), str(fused)) == (UNFUSED, FUSED)
    assert stats == ["fuse_kernels: 10 nodes in 10 kernels -> 5 kernels"]


def step(x, w):
    loss = (x.matmul(w).relu() * 2.0).sum()
    loss.backward()
    return loss.exp(), w.grad * 0.5


# Forward flops 165 (matmul 120, relu, mul and sum 15 each), times 3 for forward + backward.
# `exp` and `mul_1` read different kernels' outputs, so they stay apart (no sibling fusion).
GRAD = """\
plan step: 3 kernels
  k0 grad[matmul, relu, mul, sum, grad](%x, %w) -> (%sum, %grad)  flops=495 bytes=212
  k1 elementwise[exp](%sum) -> (%exp)  flops=1 bytes=8
  k2 elementwise[mul_1](%grad) -> (%mul_1)  flops=20 bytes=160
  memory: not planned (plan_memory did not run)"""


def test_a_grad_kernel_holds_the_forward_it_differentiates():
    w = graphnet.randn(4, 5, requires_grad=True)
    graph = trace(step, graphnet.randn(3, 4), w)
    plan, _ = run_pipeline(graph, passes=[NAME], debug=True)
    assert str(plan) == GRAD


def test_numbers_fused_and_unfused():
    outputs_agree(lambda: (blocks, []), [graphnet.randn(3, 4), graphnet.randn(4, 5)], NAME)

    w = graphnet.randn(4, 5, requires_grad=True)

    def make():
        w.grad = None      # every run starts from no gradient (the second call accumulates)
        return step, [w]

    outputs_agree(make, [graphnet.randn(3, 4), w], NAME)


# Each seed model's fused plan, kernel by kernel, as kind[ops]: a conv or linear takes its
# ReLU (and a residual add) as epilogue; a pool after a conv stays alone (a reduction absorbs
# only elementwise producers); cat stays alone; in eval mode the folded BatchNorm's weight
# arithmetic (state only) fuses into elementwise chains.
CONV_RELU, LINEAR_RELU, POOL = "contraction[conv, relu]", "contraction[linear, relu]", \
    "reduction[max_pool]"
FOLDED_BN = ["elementwise[add, rsqrt, mul]", "elementwise[reshape, mul]",
             "elementwise[sub, mul, add]"]
TRAIN_BN = ["elementwise[add]", "reduction[batch_norm_train]", "elementwise[mul, mul, add]",
            "elementwise[mul, mul, add]"]
FUSED_SEED_PLANS = {
    "lenet": [CONV_RELU, POOL, CONV_RELU, POOL, "elementwise[reshape]", LINEAR_RELU,
              LINEAR_RELU, "contraction[linear]"],
    "vgg_block": [CONV_RELU, CONV_RELU, POOL],
    "inception": [CONV_RELU] * 5 + [POOL, CONV_RELU, "opaque[cat]"],
    "residual_bn_train": ["contraction[conv]", *TRAIN_BN, "elementwise[relu]",
                          "contraction[conv]", *TRAIN_BN, "contraction[conv, add, relu]"],
    "residual_bn_eval": [*FOLDED_BN, CONV_RELU, *FOLDED_BN, "contraction[conv]",
                         "contraction[conv, add, relu]"],
    "dense_block": ["elementwise[batch_norm_eval, relu]", "contraction[conv]", "opaque[cat]"] * 2,
    "alexnet_eval": [CONV_RELU, POOL, CONV_RELU, POOL, CONV_RELU, CONV_RELU, CONV_RELU, POOL,
                     "reduction[adaptive_avg_pool]", "elementwise[reshape]", LINEAR_RELU,
                     LINEAR_RELU, "contraction[linear]"],
}


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_fused_plans_and_plan_mode_numbers(model):
    """mode="plan" runs the fused plan (and the unfused one without the pass): both give the
    dynamic and the static numbers, and the fused plan has the kernels above."""
    runs = seed_model_agrees(model, NAME, mode="plan")
    fused = runs["all passes"].compiled.artifacts[0].plan
    unfused = runs[f"without {NAME}"].compiled.artifacts[0].plan
    assert len(unfused.order) == len(unfused.graph.nodes)      # one kernel per node
    assert [f"{k.kind}[{', '.join(n.op for n in k.nodes)}]"
            for k in fused.in_order()] == FUSED_SEED_PLANS[model]
