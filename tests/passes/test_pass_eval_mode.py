"""eval_mode_rewrites: BatchNorm folded into the conv/linear before it (golden text, numbers)."""

import numpy as np
import pytest
from seed_models import SEED_MODELS, seed_model_agrees
from pass_helpers import apply_pass, numpy_of

import graphnet
from graphnet.compiler import trace
from graphnet import nn

NAME = "eval_mode_rewrites"


def conv_bn(*layers):
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), *layers)
    rng = np.random.default_rng(0)
    with graphnet.no_grad():   # running statistics and affine parameters far from 0 and 1
        for name, value in [("running_mean", rng.normal(0, 0.1, 3)),
                            ("running_var", rng.uniform(0.5, 1.5, 3)),
                            ("weight", rng.normal(0, 1, 3)), ("bias", rng.normal(0, 1, 3))]:
            getattr(model[1], name).copy_(graphnet.from_numpy(value.astype(np.float32)))
    return model.eval().requires_grad_(False)   # inference: no gradient is taken


BEFORE = """\
graph Sequential(%input: f32[1,2,4,4]):
  state(%0.weight: f32[3,2,3,3], %0.bias: f32[3], %1.running_mean: f32[3], %1.running_var: f32[3], %1.weight: f32[3], %1.bias: f32[3])
  %conv: f32[1,3,4,4] = conv(%input, %0.weight, %0.bias, stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)  # 0
  %batch_norm_eval: f32[1,3,4,4] = batch_norm_eval(%conv, %1.running_mean, %1.running_var, %1.weight, %1.bias, eps=1e-05, has_weight=True, has_bias=True)  # 1
  %relu: f32[1,3,4,4] = relu(%batch_norm_eval)  # 2
  return %relu"""   # noqa: E501

AFTER = """\
graph Sequential(%input: f32[1,2,4,4]):
  state(%0.weight: f32[3,2,3,3], %0.bias: f32[3], %1.running_mean: f32[3], %1.running_var: f32[3], %1.weight: f32[3], %1.bias: f32[3])
  %add: f32[3] = add(%1.running_var, 1e-05)  # 1
  %rsqrt: f32[3] = rsqrt(%add)  # 1
  %mul: f32[3] = mul(%rsqrt, %1.weight)  # 1
  %reshape: f32[3,1,1,1] = reshape(%mul, shape=(3, 1, 1, 1))  # 1
  %mul_1: f32[3,2,3,3] = mul(%0.weight, %reshape)  # 1
  %sub: f32[3] = sub(%0.bias, %1.running_mean)  # 1
  %mul_2: f32[3] = mul(%sub, %mul)  # 1
  %add_1: f32[3] = add(%mul_2, %1.bias)  # 1
  %conv: f32[1,3,4,4] = conv(%input, %mul_1, %add_1, stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)  # 0
  %relu: f32[1,3,4,4] = relu(%conv)  # 2
  return %relu"""   # noqa: E501


def test_batchnorm_folds_into_the_conv():
    before, after, _ = apply_pass(NAME, conv_bn(), graphnet.randn(1, 2, 4, 4))
    assert (before, after) == (BEFORE, AFTER)


def test_folded_equals_unfolded_and_dynamic():
    model = conv_bn(nn.Dropout(0.5), nn.Flatten(), nn.Linear(48, 5, bias=False),
                    nn.BatchNorm1d(5))
    model.requires_grad_(False)
    x = graphnet.randn(2, 2, 4, 4)
    expected = numpy_of(model(x))[0]
    folded = graphnet.compile(model, debug=True)
    plain = graphnet.compile(model, debug=True, disable=[NAME])
    planned = graphnet.compile(model, debug=True, mode="plan")
    for run in (folded, plain, planned):
        np.testing.assert_allclose(numpy_of(run(x))[0], expected, rtol=1e-5, atol=1e-5)
    assert folded.graph.count("batch_norm_eval") == 0 and plain.graph.count("batch_norm_eval") == 2
    assert "eval_mode_rewrites: 2 batch norms folded" in folded.explain()["per_graph"][0][
        "pass_stats"][4]


def test_eval_trace_has_no_dropout_and_training_batchnorm_is_left_alone():
    model = conv_bn(nn.Dropout(0.5))
    eval_graph = trace(model, graphnet.randn(2, 2, 4, 4))
    assert eval_graph.count("dropout") == 0        # F.dropout returns its input in eval mode
    model.train()
    _, after, graph = apply_pass(NAME, model, graphnet.randn(2, 2, 4, 4))
    assert graph.count("batch_norm_train") == 1 and graph.count("conv") == 1
    assert "%0.weight, %0.bias" in after            # the conv still reads its own weights


def test_conv_output_read_elsewhere_is_not_folded():
    model = conv_bn()

    def both(x):
        y = model[0](x)
        return model[1](y), y     # the un-normalised conv output is needed too

    _, _, graph = apply_pass(NAME, both, graphnet.randn(1, 2, 4, 4))
    assert graph.count("batch_norm_eval") == 1


# batch_norm_eval nodes left (with the pass, without it): residual_bn_eval's two BatchNorms
# follow convs and fold; dense_block's come before their convs (BN-ReLU-conv) and stay.
BATCH_NORMS_LEFT = {"residual_bn_eval": (0, 2), "dense_block": (2, 2)}


@pytest.mark.parametrize("model", sorted(SEED_MODELS))
def test_seed_models_with_and_without_the_pass(model):
    runs = seed_model_agrees(model, NAME)
    left = (runs["all passes"].graph.count("batch_norm_eval"),
            runs[f"without {NAME}"].graph.count("batch_norm_eval"))
    assert left == BATCH_NORMS_LEFT.get(model, (0, 0))


def _tied_model():
    """Integer inputs and half-integer weights: the conv's outputs tie exactly in many pool
    windows, and stay tied through an unfolded BatchNorm (one affine map per channel)."""
    rng = np.random.RandomState(0)
    x = rng.randint(0, 3, (4, 2, 8, 8)).astype(np.float32)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.MaxPool2d(2))
    with graphnet.no_grad():
        model[0].weight.copy_(graphnet.tensor((rng.randint(-2, 3, (4, 2, 3, 3)) * 0.5)
                                              .astype(np.float32)))
        model[0].bias.fill_(0.25)
        model[1].running_mean.copy_(graphnet.tensor(rng.rand(4).astype(np.float32)))
        model[1].running_var.copy_(graphnet.tensor((rng.rand(4) * 3 + 0.3).astype(np.float32)))
    return model.eval(), x


def _input_grad(model, x, compiled):
    run = graphnet.compile(model) if compiled else model
    x = graphnet.tensor(x, requires_grad=True)
    run(x).sum().backward()
    return x.grad.numpy(), run


def test_not_folded_when_gradients_are_taken():
    """A fold re-rounds the conv per position, which moved max-pool ties and so where the
    input's gradient lands (17 of 512 elements, off by up to 1.0)."""
    model, x = _tied_model()
    want, _ = _input_grad(model, x, compiled=False)
    got, run = _input_grad(model, x, compiled=True)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert run.graph.count("batch_norm_eval") == 1


def test_not_folded_before_a_discrete_result():
    """No gradient, but max-pool indices (read by MaxUnpool) depend on the same ties."""
    model, x = _tied_model()
    model[2] = nn.MaxPool2d(2, return_indices=True)
    model.requires_grad_(False)
    want = model(graphnet.tensor(x))[1].numpy()
    run = graphnet.compile(model)
    assert (run(graphnet.tensor(x))[1].numpy() == want).all()
    assert run.graph.count("batch_norm_eval") == 1
    model[2] = nn.MaxPool2d(2)      # values only: folded
    run = graphnet.compile(model)
    run(graphnet.tensor(x))
    assert run.graph.count("batch_norm_eval") == 0
