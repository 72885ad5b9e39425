"""L1, SmoothL1, Huber, BCE, BCEWithLogits and KLDiv losses against PyTorch: every reduction
and option, values and gradients (input and target), dynamic and static; reprs, state_dict
keys and input errors."""

import numpy as np
import pytest
from parity import assert_close, check_module, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn
from graphnet.nn import functional as F

rng = np.random.default_rng(0)
SHAPE = (4, 3)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def probs(*shape):
    return (1 / (1 + np.exp(-arr(*shape)))).astype(np.float32)


def log_softmax(a):
    a = a - a.max(axis=1, keepdims=True)
    return (a - np.log(np.exp(a).sum(axis=1, keepdims=True))).astype(np.float32)


def regression():
    return [arr(*SHAPE), arr(*SHAPE)]


def bce_inputs():
    return [probs(*SHAPE), probs(*SHAPE)]  # soft (float) targets


def logits_inputs():
    return [arr(*SHAPE), (rng.random(SHAPE) > 0.5).astype(np.float32)]  # hard 0/1 targets


def kl_inputs(log_target):
    target = log_softmax(arr(*SHAPE))
    return [log_softmax(arr(*SHAPE)), target if log_target else np.exp(target)]


WEIGHT, POS_WEIGHT = probs(*SHAPE) + 0.5, np.array([0.5, 2.0, 3.0], np.float32)


def weighted(lib, name, **kwargs):
    """`kwargs` holds NumPy weights; turn them into `lib` tensors."""
    convert = graphnet.from_numpy if lib is nn else torch.from_numpy
    return getattr(lib, name)(**{k: convert(v.copy()) if isinstance(v, np.ndarray) else v
                                 for k, v in kwargs.items()})


REDUCTIONS = ["none", "mean", "sum"]
CASES = {}
for r in REDUCTIONS:
    CASES[f"l1_{r}"] = ("L1Loss", dict(reduction=r), regression)
    CASES[f"smooth_l1_{r}"] = ("SmoothL1Loss", dict(reduction=r), regression)
    CASES[f"huber_{r}"] = ("HuberLoss", dict(reduction=r), regression)
    CASES[f"bce_{r}"] = ("BCELoss", dict(reduction=r), bce_inputs)
    CASES[f"bce_logits_{r}"] = ("BCEWithLogitsLoss", dict(reduction=r), logits_inputs)
for r in REDUCTIONS + ["batchmean"]:
    CASES[f"kl_div_{r}"] = ("KLDivLoss", dict(reduction=r), lambda: kl_inputs(False))
CASES.update({
    "smooth_l1_beta_half": ("SmoothL1Loss", dict(beta=0.5), regression),
    "smooth_l1_beta_zero": ("SmoothL1Loss", dict(beta=0.0, reduction="sum"), regression),
    "huber_delta_half": ("HuberLoss", dict(delta=0.5, reduction="none"), regression),
    "bce_weight_mean": ("BCELoss", dict(weight=WEIGHT), bce_inputs),
    "bce_weight_none": ("BCELoss", dict(weight=WEIGHT[0], reduction="none"), bce_inputs),
    "bce_logits_weight_pos_weight": ("BCEWithLogitsLoss", dict(weight=WEIGHT,
                                                               pos_weight=POS_WEIGHT),
                                     logits_inputs),
    "bce_logits_pos_weight_sum": ("BCEWithLogitsLoss", dict(pos_weight=POS_WEIGHT,
                                                            reduction="sum"), bce_inputs),
    "bce_logits_weight_none": ("BCEWithLogitsLoss", dict(weight=WEIGHT, reduction="none"),
                               logits_inputs),
    "kl_div_log_target_batchmean": ("KLDivLoss", dict(reduction="batchmean", log_target=True),
                                    lambda: kl_inputs(True)),
    "kl_div_log_target_none": ("KLDivLoss", dict(reduction="none", log_target=True),
                               lambda: kl_inputs(True)),
})


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("case", CASES)
def test_loss_parity(case):
    name, kwargs, make_inputs = CASES[case]
    ours, theirs = weighted(nn, name, **kwargs), weighted(torch.nn, name, **kwargs)
    check_module(ours, theirs, make_inputs())


@pytest.mark.parametrize("case", ["l1_mean", "bce_logits_weight_pos_weight", "kl_div_batchmean",
                                  "smooth_l1_beta_half", "huber_delta_half", "bce_weight_mean"])
def test_repr_and_state_dict_keys(case):
    name, kwargs, _ = CASES[case]
    ours, theirs = weighted(nn, name, **kwargs), weighted(torch.nn, name, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_bce_at_zero_and_one_is_finite_like_torch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3], np.float32)
    ours, theirs = to_gn(p, requires_grad=True), to_torch(p, requires_grad=True)
    loss = F.binary_cross_entropy(ours, to_gn(y), reduction="sum")
    expected = torch.nn.functional.binary_cross_entropy(theirs, to_torch(y), reduction="sum")
    assert_close(loss, expected)  # each -inf log is clamped at -100
    loss.backward(), expected.backward()
    assert_close(ours.grad, theirs.grad, rtol=1e-4)


def test_l1_and_smooth_l1_grads_at_zero_difference():
    x = to_gn(np.array([1.0, 2.0], np.float32), requires_grad=True)
    (F.l1_loss(x, to_gn(np.array([1.0, 0.0], np.float32)), reduction="sum")
     + F.smooth_l1_loss(x, to_gn(np.array([1.0, 3.0], np.float32)), beta=0.0)).backward()
    # d|d|/dd is 0 at d = 0 in PyTorch; beta = 0 must not give NaN
    np.testing.assert_allclose(np_of(x.grad), [0.0, 0.5])


def test_kl_div_zero_target_contributes_nothing():
    target = to_gn(np.array([[0.0, 1.0]], np.float32))
    loss = F.kl_div(to_gn(np.array([[-1.0, -0.5]], np.float32)), target, reduction="sum")
    assert_close(loss, np.array(0.5, np.float32))


def test_legacy_size_average_and_reduce():
    x, y = to_gn(arr(*SHAPE)), to_gn(arr(*SHAPE))
    assert tuple(F.l1_loss(x, y, reduce=False).shape) == SHAPE
    assert_close(F.l1_loss(x, y, size_average=False), F.l1_loss(x, y, reduction="sum"))
    assert nn.BCELoss(reduce=False).reduction == "none"
    assert nn.KLDivLoss(size_average=False).reduction == "sum"


# (kl_div broadcasts without a warning in PyTorch, and here: tests/test_hunt37_kl_div_broadcast.py)
FUNCTIONS = [F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.binary_cross_entropy,
             F.binary_cross_entropy_with_logits]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_mismatched_shapes_raise(fn):
    with pytest.raises(graphnet.ShapeError, match=r"\[4, 1\].*\[4\].*same shape"):
        fn(to_gn(probs(4, 1)), to_gn(probs(4)))


def test_bce_target_dtype_and_reduction_errors():
    p = to_gn(probs(*SHAPE))
    with pytest.raises(TypeError, match=r"target.float\(\)"):
        F.binary_cross_entropy(p, graphnet.ones(*SHAPE, dtype=graphnet.int64))
    with pytest.raises(TypeError, match=r"target.float\(\)"):
        nn.BCEWithLogitsLoss()(p, graphnet.ones(*SHAPE, dtype=graphnet.int64))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.l1_loss(p, p, reduction="batchmean")
    with pytest.raises(ValueError, match="beta"):
        F.smooth_l1_loss(p, p, beta=-1.0)


def test_kl_div_mean_warns_like_torch():
    x = to_gn(log_softmax(arr(*SHAPE)))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, x.exp())


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")
@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss"])
@pytest.mark.parametrize("flags", [dict(size_average=False), dict(reduce=False),
                                   dict(size_average=True, reduce=True)])
def test_every_loss_module_reads_the_legacy_flags_like_torch(name, flags):
    assert getattr(nn, name)(**flags).reduction == getattr(torch.nn, name)(**flags).reduction


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")
def test_class_and_mse_losses_share_the_reduction_checks():
    logits, labels = arr(*SHAPE), np.array([0, 2, 1, 2])
    for kwargs in (dict(size_average=False), dict(reduce=False)):
        assert_close(F.cross_entropy(to_gn(logits), graphnet.tensor(labels), **kwargs),
                     torch.nn.functional.cross_entropy(to_torch(logits),
                                                       torch.from_numpy(labels), **kwargs))
        assert_close(F.mse_loss(to_gn(logits), to_gn(logits * 2), **kwargs),
                     torch.nn.functional.mse_loss(to_torch(logits), to_torch(logits * 2),
                                                  **kwargs))
    for fn, args in ((F.cross_entropy, (to_gn(logits), graphnet.tensor(labels))),
                     (F.nll_loss, (to_gn(logits), graphnet.tensor(labels))),
                     (F.mse_loss, (to_gn(logits), to_gn(logits)))):
        with pytest.raises(ValueError, match="sume is not a valid value for reduction"):
            fn(*args, reduction="sume")


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses_match_torch(name, reduction, compiled):
    rng = np.random.RandomState(0)
    x, y, w = (rng.randn(3, 4).astype(np.float32) for _ in range(3))
    w = np.abs(w)
    tx = torch.tensor(x, requires_grad=True)
    want = getattr(torch.nn.functional, name)(tx, torch.tensor(y), reduction=reduction,
                                              weight=torch.tensor(w))
    want.sum().backward()

    def run(a, b, c):
        out = getattr(graphnet.nn.functional, name)(a, b, reduction=reduction, weight=c)
        out.sum().backward()
        return out

    gx = graphnet.tensor(x, requires_grad=True)
    got = (graphnet.compile(run) if compiled else run)(gx, graphnet.tensor(y), graphnet.tensor(w))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


BCE_RANGES = [([0.5, 1.5], [1.0, 0.0]), ([0.5, 0.5], [2.0, 0.0]), ([float("nan")], [1.0]),
              ([0.5], [float("nan")]), ([1.5], [2.0]), ([-0.1, 0.5], [0.0, -1.0])]


@pytest.mark.parametrize("case", range(len(BCE_RANGES)))
@pytest.mark.parametrize("compiled", [False, True])
def test_bce_refuses_values_outside_zero_one_as_torch_does(case, compiled):
    p, y = BCE_RANGES[case]
    with pytest.raises(RuntimeError) as want:
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    fn = graphnet.compile(F.binary_cross_entropy) if compiled else F.binary_cross_entropy
    with pytest.raises(RuntimeError, match=str(want.value)):
        fn(graphnet.tensor(p), graphnet.tensor(y))


def test_a_compiled_step_whose_probabilities_leave_zero_one_raises_and_writes_nothing():
    lin = nn.Linear(2, 1)

    @graphnet.compile
    def step(x, y):
        loss = F.binary_cross_entropy(lin(x).sigmoid() + 1, y)   # the program computes p
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        step(graphnet.ones(3, 2), graphnet.ones(3, 1))
    assert lin.weight.grad is None
