"""Integer and bool inputs to nn.functional, and mixed dtypes in products and normalisations:
graphnet raises PyTorch's error (type and words) where torch 2.13 refuses, and gives torch's
dtype where it computes, eagerly and compiled (graphnet/nn/_dtype_refusals.py,
graphnet/_ops/_operand_dtypes.py)."""

import graphnet as gt
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore")


def _calls(L, dt):
    F = L.nn.functional
    x = L.ones(2, 3, dtype=dt)
    x3, x4 = L.ones(1, 2, 4, dtype=dt), L.ones(1, 2, 4, 4, dtype=dt)
    x5 = L.ones(1, 1, 2, 2, 2, dtype=dt)
    lab = L.tensor([0, 1])
    return {
        "gelu": lambda: F.gelu(x), "silu": lambda: F.silu(x),
        "leaky_relu": lambda: F.leaky_relu(x), "leaky_relu_": lambda: F.leaky_relu_(x.clone()),
        "rrelu": lambda: F.rrelu(x), "elu": lambda: F.elu(x), "selu": lambda: F.selu(x),
        "celu": lambda: F.celu(x), "softplus": lambda: F.softplus(x), "mish": lambda: F.mish(x),
        "hardswish": lambda: F.hardswish(x), "hardsigmoid": lambda: F.hardsigmoid(x),
        "glu": lambda: F.glu(L.ones(2, 4, dtype=dt)), "logsigmoid": lambda: F.logsigmoid(x),
        "prelu": lambda: F.prelu(x, L.ones(1, dtype=dt)), "relu6": lambda: F.relu6(x),
        "hardtanh": lambda: F.hardtanh(x), "relu": lambda: F.relu(x),
        "relu_": lambda: F.relu_(x.clone()), "threshold": lambda: F.threshold(x, 0, 0),
        "softsign": lambda: F.softsign(x), "hardshrink": lambda: F.hardshrink(x),
        "softshrink": lambda: F.softshrink(x), "softmax": lambda: F.softmax(x, 1),
        "softmax dim 0": lambda: F.softmax(x, 0), "log_softmax": lambda: F.log_softmax(x, 1),
        "softmin": lambda: F.softmin(x, 1), "mse_loss": lambda: F.mse_loss(x, x),
        "mse_loss none": lambda: F.mse_loss(x, x, reduction="none"),
        "l1_loss": lambda: F.l1_loss(x, x), "l1_loss none": lambda: F.l1_loss(x, x, reduction="none"),
        "smooth_l1_loss": lambda: F.smooth_l1_loss(x, x), "huber_loss": lambda: F.huber_loss(x, x),
        "cross_entropy": lambda: F.cross_entropy(x, lab), "nll_loss": lambda: F.nll_loss(x, lab),
        "kl_div": lambda: F.kl_div(x, x), "binary_cross_entropy": lambda: F.binary_cross_entropy(x, x),
        "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(x, x),
        "poisson_nll_loss": lambda: F.poisson_nll_loss(x, x),
        "gaussian_nll_loss": lambda: F.gaussian_nll_loss(x, x, L.ones(2, 3, dtype=dt)),
        "soft_margin_loss": lambda: F.soft_margin_loss(x, x),
        "multilabel_soft_margin_loss": lambda: F.multilabel_soft_margin_loss(x, x),
        "hinge_embedding_loss": lambda: F.hinge_embedding_loss(x, x),
        "margin_ranking_loss": lambda: F.margin_ranking_loss(x[0], x[0], L.ones(3, dtype=dt)),
        "cosine_embedding_loss": lambda: F.cosine_embedding_loss(x, x, L.ones(2, dtype=dt)),
        "triplet_margin_loss": lambda: F.triplet_margin_loss(x, x, x),
        "pairwise_distance": lambda: F.pairwise_distance(x, x),
        "multi_margin_loss": lambda: F.multi_margin_loss(x, lab),
        "dropout": lambda: F.dropout(x, 0.5), "dropout eval": lambda: F.dropout(x, 0.5, False),
        "dropout2d": lambda: F.dropout2d(x4, 0.5), "normalize": lambda: F.normalize(x),
        "layer_norm": lambda: F.layer_norm(x, (3,)), "group_norm": lambda: F.group_norm(x4, 1),
        "batch_norm": lambda: F.batch_norm(x, None, None, training=True),
        "instance_norm": lambda: F.instance_norm(x3), "rms_norm": lambda: F.rms_norm(x, (3,)),
        "local_response_norm": lambda: F.local_response_norm(x3, 2),
        "max_pool1d": lambda: F.max_pool1d(x3, 2), "max_pool2d": lambda: F.max_pool2d(x4, 2),
        "max_pool3d": lambda: F.max_pool3d(x5, 2), "avg_pool1d": lambda: F.avg_pool1d(x3, 2),
        "avg_pool2d": lambda: F.avg_pool2d(x4, 2), "avg_pool3d": lambda: F.avg_pool3d(x5, 2),
        "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(x4, 1),
        "adaptive_max_pool1d": lambda: F.adaptive_max_pool1d(x3, 1),
        "lp_pool2d": lambda: F.lp_pool2d(x4, 2, 2),
        "interpolate nearest 1d": lambda: F.interpolate(x3, scale_factor=2),
        "interpolate linear": lambda: F.interpolate(x3, scale_factor=2, mode="linear"),
        "interpolate nearest 2d": lambda: F.interpolate(x4, scale_factor=2),
        "interpolate bilinear": lambda: F.interpolate(x4, scale_factor=2, mode="bilinear"),
        "interpolate area": lambda: F.interpolate(x4, scale_factor=2, mode="area"),
        "unfold": lambda: F.unfold(x4, 2), "linear": lambda: F.linear(x, L.ones(2, 3, dtype=dt)),
        "conv1d": lambda: F.conv1d(x3, L.ones(1, 2, 1, dtype=dt)),
        "conv_transpose1d": lambda: F.conv_transpose1d(x3, L.ones(2, 1, 1, dtype=dt)),
        "sdpa": lambda: F.scaled_dot_product_attention(x4, x4, x4),
        "abs": lambda: x.abs(), "floor": lambda: x.floor(), "ceil": lambda: x.ceil(),
        "trunc": lambda: x.trunc(), "round": lambda: x.round(), "neg": lambda: -x,
        "sign": lambda: x.sign(), "square": lambda: x.square(), "argmax": lambda: x.argmax(),
        "median": lambda: x.median(), "median dim": lambda: x.median(0)[0],
        "logcumsumexp": lambda: x.logcumsumexp(0), "trace": lambda: x[:, :2].trace(),
        "floor_divide": lambda: x // x, "remainder": lambda: x % x,
        "fmod with True": lambda: L.fmod(x, True), "shift by True": lambda: x << True,
        "addcmul": lambda: L.addcmul(x, x, x), "matmul": lambda: x @ x.T,
        "lerp": lambda: L.lerp(x, x, 0.5),
    }


NAMES = list(_calls(torch, torch.int64))


def _outcome(call):
    try:
        out = call()
    except Exception as e:      # the first line's words, and the exception's type
        return type(e).__name__, str(e).splitlines()[0].replace("graphnet.", "torch.")
    out = out[0] if isinstance(out, tuple) else out
    return "ok", str(out.dtype).split(".")[-1]


@pytest.mark.parametrize("dtype", ["int64", "bool", "int32", "uint8"])
@pytest.mark.parametrize("name", NAMES)
def test_integer_and_bool_inputs_match_torch(name, dtype):
    want = _outcome(_calls(torch, getattr(torch, dtype))[name])
    got = _outcome(_calls(gt, getattr(gt, dtype))[name])
    assert got == want


COMPILED = ["gelu", "mse_loss", "cross_entropy", "layer_norm", "abs", "avg_pool2d",
            "margin_ranking_loss", "linear", "softmax", "median"]


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_calls_refuse_and_compute_as_eager_ones(name):
    dt = gt.int64 if name != "abs" else gt.bool

    def fn(x):      # the input only lends its dtype; the call builds its own tensors
        return _calls(gt, x.dtype)[name]()

    want = _outcome(lambda: fn(gt.ones(1, dtype=dt)))
    got = _outcome(lambda: gt.compile(fn)(gt.ones(1, dtype=dt)))
    assert got == want


MIXED = {
    "mm": lambda L: L.ones(1, 2, dtype=L.float64) @ L.ones(2, 1),
    "mm int float": lambda L: L.ones(1, 2, dtype=L.int64) @ L.ones(2, 1),
    "dot": lambda L: L.ones(2) @ L.ones(2, dtype=L.float64),
    "mv": lambda L: L.ones(2, 2, dtype=L.float64) @ L.ones(2),
    "bmm": lambda L: L.ones(1, 2, 2, dtype=L.float64).bmm(L.ones(1, 2, 2)),
    "Linear float64": lambda L: L.nn.Linear(2, 3)(L.ones(1, 2, dtype=L.float64)),
    "Linear int64": lambda L: L.nn.Linear(2, 3)(L.ones(1, 2, dtype=L.int64)),
    "linear without bias": lambda L: L.nn.functional.linear(L.ones(1, 2, dtype=L.float64),
                                                            L.ones(3, 2)),
    "Conv2d float64": lambda L: L.nn.Conv2d(1, 1, 1)(L.ones(1, 1, 2, 2, dtype=L.float64)),
    "conv2d without bias": lambda L: L.nn.functional.conv2d(
        L.ones(1, 1, 2, 2, dtype=L.float64), L.ones(1, 1, 1, 1)),
    "ConvTranspose2d float64": lambda L: L.nn.ConvTranspose2d(1, 1, 1)(
        L.ones(1, 1, 2, 2, dtype=L.float64)),
    "LayerNorm float64": lambda L: L.nn.LayerNorm(2)(L.ones(1, 2, dtype=L.float64)),
    "BatchNorm1d float64": lambda L: L.nn.BatchNorm1d(2)(L.ones(2, 2, dtype=L.float64)),
    "LayerNorm float64 params": lambda L: L.nn.LayerNorm(2).double()(L.ones(1, 2)),
    "einsum": lambda L: L.einsum("i,i->", L.ones(2, dtype=L.float64), L.ones(2)),
    "LayerNorm bfloat16 input": lambda L: L.nn.LayerNorm(2)(L.ones(1, 2, dtype=L.bfloat16)),
    "GroupNorm float16 input": lambda L: L.nn.GroupNorm(1, 2)(L.ones(2, 2, dtype=L.float16)),
    "lerp 0-d float64 weight": lambda L: L.lerp(L.ones(2), L.ones(2), L.tensor(0.5).double()),
    "lerp float64 end": lambda L: L.lerp(L.ones(2), L.ones(2, dtype=L.float64), 0.5),
}


@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_dtypes_in_products_and_norms_match_torch(name):
    assert _outcome(lambda: MIXED[name](gt)) == _outcome(lambda: MIXED[name](torch))


def test_a_float32_layer_norm_of_bfloat16_input_matches_torch_values():
    x = np.random.RandomState(0).randn(4, 8).astype(np.float32)
    want = torch.nn.LayerNorm(8)(torch.tensor(x).bfloat16())
    got = gt.nn.LayerNorm(8)(gt.tensor(x).bfloat16())
    assert got.dtype == gt.bfloat16
    np.testing.assert_array_equal(got.float().detach().numpy(), want.float().detach().numpy())


def test_integer_division_by_false_raises_as_in_torch():
    for L in (torch, gt):
        for fn in (lambda: L.tensor([1, 2]) // False, lambda: L.tensor([1, 2]) % False,
                   lambda: L.tensor([1, 2]) // L.tensor([False, True])):
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                fn()
