"""plan_memory: buffer lifetimes and the estimated peak (golden text), and numbers when the
plan executor frees buffers after their last reader."""

import numpy as np
import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import numpy_of, outputs_agree

import graphnet
from graphnet.compiler import trace
from graphnet.compiler.passes import run_pipeline

NAME = "plan_memory"


def blocks(x, w):
    h = (x.matmul(w) + 1.0).relu()
    s = (x.exp() * 2.0).sum(1)
    c = graphnet.cat([h, h], 1)
    return c.tanh().mean(1) + s


# Live while k2 runs: %relu (60) + %sum (12) + %cat (120) = 192 bytes, more than at any
# other kernel (k0: %x + %w + %relu = 188).
GOLDEN = """\
plan blocks: 5 kernels
  k0 contraction[matmul, add, relu](%x, %w) -> (%relu)  flops=150 bytes=188
  k1 reduction[exp, mul, sum](%x) -> (%sum)  flops=36 bytes=60
  k2 opaque[cat](%relu) -> (%cat)  flops=30 bytes=180
  k3 reduction[tanh, mean](%cat) -> (%mean)  flops=60 bytes=132
  k4 elementwise[add_1](%mean, %sum) -> (%add_1)  flops=3 bytes=36
  buffers (defined .. last read, bytes):
    %x: in .. k1, 48
    %w: in .. k0, 80
    %relu: k0 .. k2, 60
    %sum: k1 .. k4, 12
    %cat: k2 .. k3, 120
    %mean: k3 .. k4, 12
    %add_1: k4 .. end, 12
  est peak bytes: 192"""


def test_lifetimes_and_peak():
    graph = trace(blocks, graphnet.randn(3, 4), graphnet.randn(4, 5))
    plan, stats = run_pipeline(graph, passes=["fuse_kernels", NAME], debug=True)
    assert str(plan) == GOLDEN
    assert stats[-1] == "plan_memory: 7 buffers, est peak 192 bytes (at k2)"
    assert 0 < plan.est_peak_bytes <= sum(b.nbytes for b in plan.lifetimes)


def test_a_grad_kernel_counts_the_forward_values_backward_keeps():
    w = graphnet.randn(4, 5, requires_grad=True)

    def loss_and_grad(x):
        loss = (x.matmul(w).tanh() * 2.0).sum()
        loss.backward()
        return loss

    graph = trace(loss_and_grad, graphnet.randn(3, 4))
    plan, _ = run_pipeline(graph, passes=["fuse_kernels", NAME], debug=True)
    (kernel,) = [k for k in plan.in_order() if k.kind == "grad"]
    # forward inside the kernel: matmul [3,5], tanh [3,5], mul [3,5] (60 bytes each) and the
    # loss (4 bytes, also a kernel output: a buffer, counted once)
    assert [n.op for n in kernel.nodes] == ["matmul", "tanh", "mul", "sum", "grad"]
    buffers = sum(b.nbytes for b in plan.lifetimes if b.first <= 0 <= b.last)
    assert plan.est_peak_bytes == buffers + 3 * 60


def test_numbers_with_buffers_freed_and_kept():
    x, w = graphnet.randn(3, 4), graphnet.randn(4, 5)
    outputs_agree(lambda: (blocks, []), [x, w], NAME)
    kept = graphnet.compile(blocks, mode="plan", disable=[NAME], debug=True)
    np.testing.assert_allclose(numpy_of(kept(x, w))[0], numpy_of(blocks(x, w))[0], rtol=1e-6)
    assert "memory: not planned" in kept.explain()["per_graph"][0]["plan"]


def lifetimes_by_hand(plan) -> dict:
    """Value -> (kernel index defining it, -1 for a graph input; index of its last reader,
    len(kernels) for a graph output), read off the kernels' inputs and outputs."""
    kernels, outputs = plan.in_order(), {o.value for o in plan.graph.outputs}
    spans = {}
    for v in [*plan.graph.inputs, *(v for k in kernels for v in k.outputs)]:
        made = -1 if v in plan.graph.inputs else next(
            i for i, k in enumerate(kernels) if v in k.outputs)
        readers = [i for i, k in enumerate(kernels) if v in k.inputs]
        if readers or v in outputs or made >= 0:
            spans[v] = (made, len(kernels) if v in outputs else max([made, *readers]))
    return spans


# Estimated peak bytes of each seed model's plan (batch 2, f32; no grad kernels, so only
# buffers between kernels count).
SEED_PEAKS = {"alexnet_eval": 598964, "dense_block": 4624, "inception": 6912,
              "lenet": 211640, "residual_bn_eval": 4080, "residual_bn_train": 3592,
              "vgg_block": 10528}


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_lifetimes_peak_and_plan_mode_numbers(model):
    """mode="plan" frees each buffer after its last reader (and keeps them all without the
    pass): same numbers as dynamic and static. The lifetimes are the kernels' reads and
    writes, and the peak is the largest sum of the buffers live at one kernel."""
    runs = seed_model_agrees(model, NAME, mode="plan")
    plan = runs["all passes"].compiled.artifacts[0].plan
    spans = lifetimes_by_hand(plan)
    assert {b.value: (b.first, b.last) for b in plan.lifetimes} == spans
    live = [sum(int(np.prod(v.shape)) * v.dtype.itemsize
                for v, (first, last) in spans.items() if first <= i <= last)
            for i in range(len(plan.order))]
    assert plan.est_peak_bytes == max(live) == SEED_PEAKS[model]
    unplanned = runs[f"without {NAME}"].compiled.artifacts[0].plan
    assert unplanned.lifetimes == () and unplanned.est_peak_bytes is None
