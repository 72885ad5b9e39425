"""graphnet.models vs the same architectures written in PyTorch (tests/zoo_torch_*.py).

Every model: the state_dict key lists are equal (torchvision's names for AlexNet, VGG-11 and
ResNet-18), torch's weights load with strict=True, and eval-mode outputs match in dynamic
AND static (`graphnet.compile`) mode (GoogLeNet's dynamic run is marked slow). ResNet-18
and DenseNet also run one train-mode forward+backward (batch statistics, running-stat
updates) in both modes, and the LSTM language model forward+backward through its state.
Tolerances: 1e-5 for LeNet, 1e-4 for the deeper convnets (float32 sums over thousands of
terms, in a different order than torch's).
Spatial sizes and batches are the smallest each architecture allows, to keep this fast;
full-size variants are marked slow."""

from __future__ import annotations

import numpy as np
import pytest
import zoo_torch_batchnorm_rnn as tzb
import zoo_torch_convnets as tzc
from parity import assert_close

import graphnet
from graphnet import models

torch = pytest.importorskip("torch")


def load_from_torch(gn_model, torch_model) -> None:
    """Copy torch's state_dict into graphnet's: same keys in the same order, strict load."""
    t_state = torch_model.state_dict()
    assert list(gn_model.state_dict()) == list(t_state)
    gn_model.load_state_dict({k: graphnet.from_numpy(v.detach().numpy().copy())
                              for k, v in t_state.items()}, strict=True)


def image(*shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def check_eval(gn_model, torch_model, x: np.ndarray, atol: float, modes=("dynamic", "static")):
    """Eval-mode forward: torch vs graphnet in each of `modes`. Returns the compiled model
    (for structural checks), or None."""
    load_from_torch(gn_model, torch_model)
    gn_model.eval(), torch_model.eval()
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    fast = graphnet.compile(gn_model) if "static" in modes else None
    with graphnet.no_grad():
        for mode in modes:
            out = (fast if mode == "static" else gn_model)(graphnet.from_numpy(x))
            assert_close(out, expected, atol, atol, f"{mode} forward")
    return fast


def check_train_step(gn_model, torch_model, x: np.ndarray, atol: float) -> None:
    """One train-mode forward + backward of sum(out * w): outputs, every gradient and the
    updated BatchNorm running statistics, torch vs dynamic vs static; static grads also
    against dynamic ones directly."""
    load_from_torch(gn_model, torch_model)
    start = {k: graphnet.from_numpy(v.detach().numpy().copy())
             for k, v in torch_model.state_dict().items()}
    gn_model.train(), torch_model.train()
    t_out = torch_model(torch.from_numpy(x))
    w = image(*t_out.shape, seed=1)
    (t_out * torch.from_numpy(w)).sum().backward()
    t_grads = {n: p.grad.numpy() for n, p in torch_model.named_parameters()}
    t_state = {k: v.numpy() for k, v in torch_model.state_dict().items()}

    def step(x):
        out = gn_model(x)
        (out * graphnet.from_numpy(w)).sum().backward()
        return out

    grads = {}
    for mode, fn in (("dynamic", step), ("static", graphnet.compile(step))):
        gn_model.load_state_dict(start)  # same running stats before each mode's step
        gn_model.zero_grad()
        assert_close(fn(graphnet.from_numpy(x)), t_out, atol, atol, f"{mode} forward")
        grads[mode] = {}
        for name, p in gn_model.named_parameters():
            assert p.grad is not None, f"{mode}: no grad for {name}"
            grads[mode][name] = np.array(p.grad._value)
            assert_close(grads[mode][name], t_grads[name], atol, atol, f"{mode} grad of {name}")
        for key, value in gn_model.state_dict().items():
            if "running" in key or "num_batches" in key:
                assert_close(value, t_state[key], atol, atol, f"{mode} {key}")
    for name, g in grads["static"].items():
        assert_close(g, grads["dynamic"][name], atol, atol, f"static vs dynamic grad {name}")


# ---- LeNet ------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["LeNet", "LeNetSequential", "LeNetSequentialOrderDict"])
@pytest.mark.parametrize("classes,in_channels,side", [(2, 3, 32), (10, 1, 28)])
def test_lenet_styles_match_torch(style, classes, in_channels, side):
    graphnet.manual_seed(0), torch.manual_seed(0)
    gn = getattr(models, style)(classes, in_channels, side)
    check_eval(gn, getattr(tzc, style)(classes, in_channels, side),
               image(2, in_channels, side, side), atol=1e-5)


def test_lenet_d2l_matches_torch():
    check_eval(models.LeNetD2L(), tzc.LeNetD2L(), image(2, 1, 28, 28), atol=1e-5)


def test_lenet_explains_wrong_image_size():
    with pytest.raises(ValueError, match="at least 16x16"):
        models.LeNet(image_size=12)


# ---- AlexNet, VGG, NiN, GoogLeNet -------------------------------------------------------------
def test_alexnet_small_has_torchvision_keys_and_matches_torch():
    gn = models.alexnet_small(num_classes=10)
    weights = [k for k in gn.state_dict() if k.endswith("weight")]
    assert weights == ["features.0.weight", "features.3.weight", "features.6.weight",
                       "features.8.weight", "features.10.weight", "classifier.1.weight",
                       "classifier.4.weight", "classifier.6.weight"]
    check_eval(gn, tzc.AlexNet(10, (16, 32, 48, 32, 32), 64), image(1, 3, 64, 64), atol=1e-4)


@pytest.mark.slow
def test_alexnet_full_size_loads_torchvision_weights():
    check_eval(models.alexnet(), tzc.AlexNet(), image(1, 3, 64, 64), atol=1e-4)


def test_vgg11_small_has_torchvision_keys_and_matches_torch():
    gn = models.vgg11(num_classes=10, width=8, hidden=64)
    convs = [k.split(".")[1] for k in gn.state_dict() if k.startswith("features")
             and k.endswith("weight")]
    assert convs == ["0", "3", "6", "8", "11", "13", "16", "18"]
    # torchvision's VGG initialisation: N(0, 0.01) Linear weights, zero biases
    assert abs(float(gn.classifier[0].weight.std()) - 0.01) < 0.001
    assert float(gn.classifier[0].bias.abs().max()) == 0.0
    check_eval(gn, tzc.VGG11(10, width=8, hidden=64), image(1, 3, 32, 32), atol=1e-4)


@pytest.mark.slow
def test_vgg11_full_size_loads_torchvision_weights():
    check_eval(models.vgg11(), tzc.VGG11(), image(1, 3, 32, 32), atol=1e-4)


def test_vgg_d2l_blocks_match_torch():
    arch = ((1, 1, 8), (2, 8, 16))
    check_eval(models.vgg(arch, 16 * 8 * 8, 32), tzc.vgg(arch, 16 * 8 * 8, 32),
               image(2, 1, 32, 32), atol=1e-4)


def test_nin_matches_torch():
    gn = models.nin(num_classes=10, in_channels=1, image_size=67)
    check_eval(gn, tzc.nin(10, 1, final_side=1), image(1, 1, 67, 67), atol=1e-4)


def test_nin_at_seed_size_uses_seed_pool():
    assert models.nin(image_size=224)[8].kernel_size == 5


# NOTE: GoogLeNet has ~60 convs of distinct shapes, and eager mode compiles one kernel per op
# and shape; the default run checks it compiled, the slow run eagerly too.
def test_googlenet_static_matches_torch():
    check_eval(models.googlenet(), tzc.googlenet(), image(1, 1, 32, 32), atol=1e-4,
               modes=("static",))


@pytest.mark.slow
def test_googlenet_dynamic_matches_torch():
    check_eval(models.googlenet(), tzc.googlenet(), image(1, 1, 32, 32), atol=1e-4,
               modes=("dynamic",))


# ---- ResNet, DenseNet ------------------------------------------------------------------------
def test_resnet18_loads_torchvision_state_dict_and_folds_batchnorm():
    torch.manual_seed(0)
    reference = tzb.ResNet18()
    tzb.randomize_batchnorm(reference)
    gn = models.resnet18()
    block = [k for k in gn.state_dict() if k.startswith("layer2.0.")]
    assert block[:3] == ["layer2.0.conv1.weight", "layer2.0.bn1.weight", "layer2.0.bn1.bias"]
    assert "layer2.0.downsample.0.weight" in block and "layer2.0.downsample.1.running_var" in block
    # torchvision's initialisation: Kaiming-normal (fan_out) convs, BN weight 1 and bias 0
    assert abs(float(gn.conv1.weight.std()) / (2 / (64 * 7 * 7)) ** 0.5 - 1) < 0.05
    assert float(gn.layer1[0].bn1.weight.min()) == float(gn.layer1[0].bn1.weight.max()) == 1.0
    fast = check_eval(gn, reference, image(1, 3, 32, 32), atol=1e-4)
    stats = " ".join(fast.explain()["per_graph"][0]["pass_stats"])
    assert "eval_mode_rewrites: 20 batch norms folded" in stats


def test_resnet18_train_step_static_equals_dynamic_and_torch():
    torch.manual_seed(0)
    check_train_step(models.resnet18(num_classes=10, width=16),
                     tzb.ResNet18(num_classes=10, width=16), image(2, 3, 64, 64), atol=1e-4)


def test_resnet_d2l_residual_blocks_match_torch():
    torch.manual_seed(0)
    reference = tzb.resnet_d2l(10, 1, width=8)
    tzb.randomize_batchnorm(reference)
    check_eval(models.resnet_d2l(10, 1, width=8), reference, image(2, 1, 32, 32), atol=1e-4)


def test_densenet_eval_and_train_step_match_torch():
    torch.manual_seed(0)
    reference = tzb.densenet(10, 1, num_channels=16, growth_rate=8, blocks=(2, 2))
    tzb.randomize_batchnorm(reference)
    gn = models.densenet(10, 1, num_channels=16, growth_rate=8, num_convs_in_dense_blocks=(2, 2))
    check_eval(gn, reference, image(2, 1, 32, 32), atol=1e-4)
    check_train_step(gn, reference, image(2, 1, 32, 32), atol=1e-4)


# ---- recurrent language model ---------------------------------------------------------------
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_rnn_language_model_forward_backward_through_state(cell):
    vocab, steps, batch = 20, 5, 3
    torch.manual_seed(0)
    reference = tzb.RNNLanguageModel(vocab, 8, 16, num_layers=2, cell=cell)
    gn = models.RNNLanguageModel(vocab, 8, 16, num_layers=2, cell=cell)
    load_from_torch(gn, reference)
    rng = np.random.default_rng(0)
    tokens, targets = (rng.integers(0, vocab, (steps, batch)) for _ in range(2))
    state = [image(2, batch, 16, seed=s) for s in (2, 3)][:2 if cell == "lstm" else 1]
    t_state = tuple(torch.from_numpy(s) for s in state)
    logits, t_final = reference(torch.from_numpy(tokens), t_state if cell == "lstm" else t_state[0])
    torch.nn.functional.cross_entropy(logits.reshape(-1, vocab),
                                      torch.from_numpy(targets).reshape(-1)).backward()
    t_final = t_final if cell == "lstm" else (t_final,)

    def step(tokens, targets, *state):
        out, final = gn(tokens, state if cell == "lstm" else state[0])
        graphnet.nn.functional.cross_entropy(out.reshape(-1, vocab), targets.reshape(-1)).backward()
        return (out,) + (final if cell == "lstm" else (final,))

    for mode, fn in (("dynamic", step), ("static", graphnet.compile(step))):
        gn.zero_grad()
        out, *final = fn(graphnet.from_numpy(tokens), graphnet.from_numpy(targets),
                         *[graphnet.from_numpy(s) for s in state])
        assert_close(out, logits, 1e-5, 1e-5, f"{mode} logits")
        for mine, theirs in zip(final, t_final, strict=True):
            assert_close(mine, theirs, 1e-5, 1e-5, f"{mode} final state")
        for name, p in reference.named_parameters():
            assert_close(gn.get_parameter(name).grad, p.grad, 1e-5, 1e-5, f"{mode} grad {name}")


def test_rnn_language_model_starts_from_zero_state_and_checks_tokens():
    lm = models.RNNLanguageModel(10, 4, 6)
    logits, (h, c) = lm(graphnet.randint(0, 10, (3, 2)))
    assert logits.shape == (3, 2, 10) and h.shape == (1, 2, 6) and c.shape == (1, 2, 6)
    with pytest.raises(graphnet.ShapeError, match=r"tokens \[seq_len, batch\], got \[3\]"):
        lm(graphnet.randint(0, 10, (3,)))
