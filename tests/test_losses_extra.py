"""The extra loss modules against PyTorch (values and gradients, dynamic and static, reprs),
and their errors: bad targets, shapes and options raise PyTorch's exception types, in eager
and compiled calls alike. The functional forms are in tests/op_cases_loss.py."""

import numpy as np
import pytest
from parity import assert_close, check_module, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn
from graphnet.nn import functional as F

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def signs(*shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


def labels(high, *shape):
    return rng.integers(0, high, shape).astype(np.int64)


def log_softmax(a, axis=-1):
    return (a - np.log(np.exp(a).sum(axis, keepdims=True))).astype(np.float32)


W4 = np.array([0.5, 1.0, 2.0, 1.5], np.float32)

# name: (class name, constructor kwargs, inputs)
MODULES = {
    "margin_ranking": ("MarginRankingLoss", dict(margin=0.2), lambda: [arr(6), arr(6), signs(6)]),
    "hinge_sum": ("HingeEmbeddingLoss", dict(reduction="sum"), lambda: [arr(3, 4), signs(3, 4)]),
    "multilabel_soft": ("MultiLabelSoftMarginLoss", dict(weight=W4),
                        lambda: [arr(3, 4), (rng.random((3, 4)) < .5).astype(np.float32)]),
    "cosine_embedding": ("CosineEmbeddingLoss", dict(margin=0.1, reduction="none"),
                         lambda: [arr(5, 3), arr(5, 3), signs(5)]),
    "triplet": ("TripletMarginLoss", dict(margin=0.5, swap=True),
                lambda: [arr(4, 3), arr(4, 3), arr(4, 3)]),
    "triplet_distance": ("TripletMarginWithDistanceLoss", dict(margin=0.5),
                         lambda: [arr(4, 3), arr(4, 3), arr(4, 3)]),
    "poisson": ("PoissonNLLLoss", dict(log_input=False, full=True),
                lambda: [np.abs(arr(3, 4)) + 0.5, labels(5, 3, 4).astype(np.float32)]),
    "gaussian": ("GaussianNLLLoss", dict(full=True, reduction="sum"),
                 lambda: [arr(3, 4), arr(3, 4), np.abs(arr(3, 1)) + 0.1]),
    "multi_margin": ("MultiMarginLoss", dict(p=2, weight=W4), lambda: [arr(5, 4), labels(4, 5)]),
    "multilabel_margin": ("MultiLabelMarginLoss", dict(reduction="none"),
                          lambda: [arr(2, 4), np.array([[2, 1, -1, 0], [0, 1, 2, 3]])]),
    "ctc": ("CTCLoss", dict(blank=0, zero_infinity=True),
            lambda: [log_softmax(arr(7, 2, 5)), labels(4, 2, 3) + 1, np.array([7, 5]),
                     np.array([3, 2])]),
    "nll2d": ("NLLLoss2d", dict(ignore_index=1),
              lambda: [log_softmax(arr(2, 3, 4, 4), 1), labels(3, 2, 4, 4)]),
}


def _make(lib, name, kwargs):
    convert = graphnet.from_numpy if lib is nn else torch.from_numpy
    return getattr(lib, name)(**{k: convert(v.copy()) if isinstance(v, np.ndarray) else v
                                 for k, v in kwargs.items()})


@pytest.mark.filterwarnings("ignore:`NLLLoss2d` has been deprecated")
@pytest.mark.parametrize("case", sorted(MODULES))
def test_loss_module_matches_torch(case):
    name, kwargs, inputs = MODULES[case]
    ours, theirs = _make(nn, name, kwargs), _make(torch.nn, name, kwargs)
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    check_module(ours, theirs, inputs(), atol=1e-5, rtol=1e-4)


def test_soft_margin_module_matches_torch():
    """(Its target may not require grad in PyTorch, so check_module cannot run it.)"""
    x, y = arr(3, 4), signs(3, 4)
    assert repr(nn.SoftMarginLoss(reduction="sum")) == "SoftMarginLoss()"
    for r in ("none", "mean", "sum"):
        g_x, t_x = to_gn(x, requires_grad=True), to_torch(x, requires_grad=True)
        g = nn.SoftMarginLoss(reduction=r)(g_x, to_gn(y))
        t = torch.nn.SoftMarginLoss(reduction=r)(t_x, to_torch(y))
        g.sum().backward()
        t.sum().backward()
        assert_close(g, t)
        assert_close(g_x.grad, t_x.grad)


def test_nll_loss_2d_warns_that_it_is_deprecated():
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        assert isinstance(nn.NLLLoss2d(), nn.NLLLoss)


def _both_modes(fn, *args):
    """fn(*args) eagerly, then compiled: the error each raises (None if none)."""
    errors = []
    for call in (fn, graphnet.compile(fn)):
        try:
            call(*args)
            errors.append(None)
        except Exception as e:   # noqa: BLE001  (the test compares the exception itself)
            errors.append(e)
    return errors


def _torch_error(fn, *args):
    try:
        fn(*args)
    except Exception as e:   # noqa: BLE001
        return e
    return None


X, T4 = arr(3, 4), np.array([0, 3, 1])
# name: (call(lib, *tensors), numpy inputs): bad values that only the data reveals
BAD_VALUES = {
    "multi_margin_target": (lambda L, x, t: L.nn.functional.multi_margin_loss(x, t),
                            [X, np.array([0, 4, 1])]),
    "multi_margin_negative": (lambda L, x, t: L.nn.functional.multi_margin_loss(x, t),
                              [X, np.array([0, -1, 1])]),
    "multilabel_margin_target": (lambda L, x, t: L.nn.functional.multilabel_margin_loss(x, t),
                                 [X, np.array([[0, 5, -1, 0]] * 3)]),
    "gaussian_negative_var": (lambda L, x, v: L.nn.functional.gaussian_nll_loss(x, x, v),
                              [X, -np.ones((3, 4), np.float32)]),
    "ctc_input_length": (lambda L, lp, t, il: L.nn.functional.ctc_loss(lp, t, il, L.tensor([2])),
                         [log_softmax(arr(4, 1, 3)), np.array([[1, 2]]), np.array([5])]),
    "ctc_target_length": (lambda L, lp, t, tl: L.nn.functional.ctc_loss(lp, t, L.tensor([4]), tl),
                          [log_softmax(arr(4, 1, 3)), np.array([[1, 2]]), np.array([3])]),
    "ctc_negative_length": (lambda L, lp, t, il: L.nn.functional.ctc_loss(lp, t, il,
                                                                           L.tensor([2])),
                            [log_softmax(arr(4, 1, 3)), np.array([[1, 2]]), np.array([-1])]),
    # concatenated 1-D targets: the lengths must add up to the labels (fewer were padded with
    # the last label, more ignored, and both gave losses)
    "ctc_concatenated_too_few": (
        lambda L, lp, t, tl: L.nn.functional.ctc_loss(lp, t, L.tensor([6, 6, 6]), tl),
        [log_softmax(arr(6, 3, 4)), np.array([1, 2, 3, 1, 2]), np.array([3, 3, 0])]),
    "ctc_concatenated_too_many": (
        lambda L, lp, t, tl: L.nn.functional.ctc_loss(lp, t, L.tensor([6, 6, 6]), tl),
        [log_softmax(arr(6, 3, 4)), np.array([1, 2, 3, 1, 2, 3, 1]), np.array([3, 2, 0])]),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_bad_values_raise_torchs_error_eager_and_compiled(case):
    call, inputs = BAD_VALUES[case]
    expected = _torch_error(lambda *xs: call(torch, *xs), *[to_torch(a) for a in inputs])
    assert expected is not None
    for error in _both_modes(lambda *xs: call(graphnet, *xs), *[to_gn(a) for a in inputs]):
        assert type(error) is type(expected), (error, expected)
        assert str(error).startswith(str(expected))   # compiled: + where in the program


def test_ctc_target_outside_the_classes_raises_instead_of_reading_garbage():
    lp, targets = to_gn(log_softmax(arr(5, 1, 3))), graphnet.tensor([[1, 7]])
    for error in _both_modes(lambda a, t: F.ctc_loss(a, t, (5,), (2,)), lp, targets):
        assert isinstance(error, IndexError) and "target 7" in str(error)
    # padding past a target's length is never read: any value is fine there
    padded = F.ctc_loss(lp, graphnet.tensor([[1, -1]]), (5,), (1,))
    expected = torch.nn.functional.ctc_loss(to_torch(np_of(lp)), torch.tensor([[1, -1]]),
                                            (5,), (1,))
    assert_close(padded, expected)


# name: (call(lib), ...): bad shapes, dtypes and options, raised before anything runs
BAD_ARGS = {
    "ranking_dims": lambda L: L.nn.functional.margin_ranking_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(4)),
    "ranking_broadcast": lambda L: L.nn.functional.margin_ranking_loss(
        L.ones(3, 4), L.ones(3, 3), L.ones(3, 4)),
    "cosine_embedding_2d_target": lambda L: L.nn.functional.cosine_embedding_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(3, 4)),
    "cosine_embedding_dims": lambda L: L.nn.functional.cosine_embedding_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(())),
    "triplet_dims": lambda L: L.nn.functional.triplet_margin_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(4)),
    "triplet_margin": lambda L: L.nn.functional.triplet_margin_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(3, 4), margin=0),
    "triplet_distance_margin": lambda L: L.nn.functional.triplet_margin_with_distance_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(3, 4), margin=-1.0),
    "multi_margin_p": lambda L: L.nn.functional.multi_margin_loss(
        L.ones(3, 4), L.tensor([0, 1, 2]), p=3),
    "multi_margin_float_target": lambda L: L.nn.functional.multi_margin_loss(
        L.ones(3, 4), L.tensor([0.0, 1.0, 2.0])),
    "multi_margin_target_size": lambda L: L.nn.functional.multi_margin_loss(
        L.ones(3, 4), L.tensor([0, 1])),
    "multi_margin_weight_size": lambda L: L.nn.functional.multi_margin_loss(
        L.ones(3, 4), L.tensor([0, 1, 2]), weight=L.ones(3)),
    "multi_margin_3d": lambda L: L.nn.functional.multi_margin_loss(
        L.ones(2, 3, 4), L.tensor([0, 1])),
    "multilabel_margin_size": lambda L: L.nn.functional.multilabel_margin_loss(
        L.ones(3, 4), L.zeros(3, 3, dtype=L.long)),
    "multilabel_margin_dtype": lambda L: L.nn.functional.multilabel_margin_loss(
        L.ones(3, 4), L.zeros(3, 4)),
    "gaussian_var_size": lambda L: L.nn.functional.gaussian_nll_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(2, 4)),
    "gaussian_reduction": lambda L: L.nn.functional.gaussian_nll_loss(
        L.ones(3, 4), L.ones(3, 4), L.ones(3, 4), reduction="avg"),
    "gaussian_negative_float": lambda L: L.nn.functional.gaussian_nll_loss(
        L.ones(3, 4), L.ones(3, 4), -1.0),
    "poisson_reduction": lambda L: L.nn.functional.poisson_nll_loss(
        L.ones(3), L.ones(3), reduction="avg"),
    "hinge_reduction": lambda L: L.nn.functional.hinge_embedding_loss(
        L.ones(3), L.ones(3), reduction="avg"),
    "soft_margin_into_input": lambda L: L.nn.functional.soft_margin_loss(
        L.ones(4), L.ones(3, 4)),
    "soft_margin_target_grad": lambda L: L.nn.functional.soft_margin_loss(
        L.ones(4), L.ones(4).requires_grad_()),
    "ctc_blank": lambda L: L.nn.functional.ctc_loss(
        L.zeros(4, 1, 3), L.tensor([[1]]), (4,), (1,), blank=3),
    "ctc_lengths_count": lambda L: L.nn.functional.ctc_loss(
        L.zeros(4, 2, 3), L.tensor([[1], [1]]), (4,), (1, 1)),
    "ctc_float_lengths": lambda L: L.nn.functional.ctc_loss(
        L.zeros(4, 1, 3), L.tensor([[1]]), L.tensor([4.0]), L.tensor([1])),
    "ctc_mixed_lengths": lambda L: L.nn.functional.ctc_loss(
        L.zeros(4, 1, 3), L.tensor([[1]]), L.tensor([4]), (1,)),
    "top_level_reduction_is_an_int": lambda L: L.hinge_embedding_loss(
        L.ones(3), L.ones(3), 1.0, "mean"),
    "adaptive_cutoffs": lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 4]),
    "adaptive_no_cutoffs": lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(8, 10, []),
    "triplet_module_margin": lambda L: L.nn.TripletMarginLoss(margin=0.0),
    "multi_margin_module_p": lambda L: L.nn.MultiMarginLoss(p=3),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGS))
def test_bad_arguments_raise_torchs_exception_type(case):
    expected = _torch_error(BAD_ARGS[case], torch)
    assert expected is not None
    with pytest.raises(type(expected)) as info:
        BAD_ARGS[case](graphnet)
    assert type(info.value) is type(expected) or isinstance(info.value, type(expected))
    first_words = str(expected).split()[:3]
    assert str(info.value).split()[:3] == first_words, (str(info.value), str(expected))


def test_top_level_losses_default_to_no_reduction_like_torch():
    """torch.margin_ranking_loss & co. are ATen's: int reduction, none unless given."""
    a, b, y, lp = arr(6), arr(6), signs(6), log_softmax(arr(6, 2, 4))
    calls = [
        lambda L, a, b, y: L.margin_ranking_loss(a, b, y),
        lambda L, a, b, y: L.margin_ranking_loss(a, b, y, 0.5, 2),
        lambda L, a, b, y: L.hinge_embedding_loss(a, y, 0.5, 1),
        lambda L, a, b, y: L.cosine_embedding_loss(a[None], b[None], y[:1]),
        lambda L, a, b, y: L.triplet_margin_loss(a[None], b[None], y[None], 0.0, 1, 1e-6, True),
        lambda L, a, b, y: L.poisson_nll_loss(a, y.abs(), True, False, 1e-8, 2),
        lambda L, a, b, y: L.kl_div(a, b.exp()),
        lambda L, a, b, y: L.kl_div(a, b, 1, log_target=True),
        lambda L, a, b, y: L.binary_cross_entropy_with_logits(a, y.abs()),
        lambda L, a, b, y: L.binary_cross_entropy_with_logits(a, y.abs(), None, None, 2),
    ]
    for call in calls:
        assert_close(call(graphnet, *map(to_gn, (a, b, y))),
                     call(torch, *map(to_torch, (a, b, y))), what=str(call))
    ctc = [L.ctc_loss(L_lp, L.tensor([[1, 2], [3, 3]]), (6, 6), (2, 2))
           for L, L_lp in ((graphnet, to_gn(lp)), (torch, to_torch(lp)))]
    assert_close(*ctc)


def _ctc_grads(L, lp_np, leaf_is_logits, **kw):
    make = to_gn if L is graphnet else to_torch
    x = make(lp_np, requires_grad=True)
    lp = x.log_softmax(2) if leaf_is_logits else x
    targets = L.tensor([[1, 2, 2, 1], [3, 1, 0, 0], [2, 2, 0, 0]])
    loss = L.nn.functional.ctc_loss(lp, targets, L.tensor([8, 6, 3]), L.tensor([4, 2, 2]),
                                    **kw)
    loss.sum().backward()
    return loss, x.grad


@pytest.mark.parametrize("leaf_is_logits", [False, True])
@pytest.mark.parametrize("kw", [dict(), dict(reduction="none", zero_infinity=True),
                                dict(reduction="sum")])
def test_ctc_gradient_is_torchs_on_log_probs_and_on_logits(leaf_is_logits, kw):
    """PyTorch's CTC gradient on log_probs is exp(log_probs) - occupancy (the logits'
    gradient); item 3 (2 repeated labels in 3 frames) is impossible: infinite loss."""
    lp_np = log_softmax(arr(8, 3, 4))
    g_loss, g_grad = _ctc_grads(graphnet, lp_np, leaf_is_logits, **kw)
    t_loss, t_grad = _ctc_grads(torch, lp_np, leaf_is_logits, **kw)
    assert_close(g_loss, t_loss, atol=1e-5, rtol=1e-5)
    if np.isfinite(np_of(t_grad)).all():
        assert_close(g_grad, t_grad, atol=1e-5, rtol=1e-4)
    else:   # an infinite loss without zero_infinity: NaN gradients in both
        assert np.isnan(np_of(g_grad)).any()


def test_ctc_items_without_frames_like_torch():
    """An item with input length 0: loss 0 for an empty target, else inf (no gradient)."""
    lp = log_softmax(arr(4, 3, 3))
    for zero_infinity in (False, True):
        losses = []
        for L, make in ((graphnet, to_gn), (torch, to_torch)):
            x = make(lp, requires_grad=True)
            loss = L.nn.functional.ctc_loss(x, L.tensor([[1, 2], [1, 1], [2, 1]]),
                                            L.tensor([0, 0, 4]), L.tensor([0, 2, 2]),
                                            reduction="none", zero_infinity=zero_infinity)
            loss.sum().backward()
            losses.append((loss, x.grad))
        assert_close(losses[0][0], losses[1][0])
        assert_close(losses[0][1], losses[1][1], atol=1e-6)


def test_ctc_targets_that_contain_the_blank_label_like_torch():
    """PyTorch lets a target position hold the blank label and still allows the skip
    transitions of a target position: the same numbers and gradients here."""
    lp = log_softmax(arr(7, 3, 4))
    targets = np.array([[1, 0, 0, 1], [2, 2, 0, 0], [0, 3, 3, 1]])
    results = []
    for L, make in ((graphnet, to_gn), (torch, to_torch)):
        x = make(lp, requires_grad=True)
        loss = L.nn.functional.ctc_loss(x, make(targets), L.tensor([6, 7, 5]),
                                        L.tensor([4, 3, 4]), reduction="none")
        loss.sum().backward()
        results.append((loss, x.grad))
    assert_close(results[0][0], results[1][0], rtol=1e-5)
    assert_close(results[0][1], results[1][1], atol=1e-5, rtol=1e-4)


def test_ctc_unbatched_concatenated_and_compiled():
    lp_np = log_softmax(arr(6, 2, 5))
    flat = np.array([1, 2, 4, 4, 3])

    def call(L, lp, flat):
        batched = L.nn.functional.ctc_loss(lp, flat, L.tensor([6, 5]), L.tensor([2, 3]),
                                           reduction="none")
        single = L.nn.functional.ctc_loss(lp[:, 0], flat[:2], L.tensor(6), L.tensor(2))
        return batched, single

    expected = call(torch, to_torch(lp_np), to_torch(flat))
    for fn in (call, lambda L, *xs: graphnet.compile(lambda *ys: call(L, *ys))(*xs)):
        got = fn(graphnet, to_gn(lp_np), to_gn(flat))
        for g, t in zip(got, expected):
            assert_close(g, t)


def test_gaussian_nll_variance_below_eps_keeps_its_gradient():
    """var is clamped at eps in value only (PyTorch clamps in place under no_grad)."""
    x, y, v = arr(3, 4), arr(3, 4), np.full((3, 4), 1e-9, np.float32)
    grads = []
    for L, make in ((graphnet, to_gn), (torch, to_torch)):
        var = make(v, requires_grad=True)
        L.nn.functional.gaussian_nll_loss(make(x), make(y), var).backward()
        grads.append(var.grad)
    assert_close(grads[0], grads[1], rtol=1e-4)


def _adaptive_pair(head_bias):
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [5, 12], div_value=2.0,
                                                 head_bias=head_bias)
    ours = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [5, 12], div_value=2.0, head_bias=head_bias)
    ours.load_state_dict({k: graphnet.from_numpy(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(head_bias):
    ours, theirs = _adaptive_pair(head_bias)
    assert repr(ours) == repr(theirs)
    x, target = arr(9, 16), np.array([0, 4, 5, 11, 12, 19, 3, 7, 15])
    t_x = to_torch(x, requires_grad=True)
    t_out, t_loss = theirs(t_x, to_torch(target))
    t_loss.backward()
    step = lambda m, a, t: m(a, t)   # noqa: E731
    for fn in (step, graphnet.compile(step)):
        ours.zero_grad()
        g_x = to_gn(x, requires_grad=True)
        out, loss = fn(ours, g_x, to_gn(target))
        loss.backward()
        assert_close(out, t_out)
        assert_close(loss, t_loss)
        assert_close(g_x.grad, t_x.grad)
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert_close(p.grad, tp.grad, what=name)
    assert_close(ours.log_prob(to_gn(x)), theirs.log_prob(to_torch(x)), atol=1e-5)
    np.testing.assert_array_equal(np_of(ours.predict(to_gn(x))),
                                  np_of(theirs.predict(to_torch(x))))
    single = ours(to_gn(x[0]), graphnet.tensor(13))
    expected = theirs(to_torch(x[0]), torch.tensor(13))
    assert_close(single.output, expected.output) and assert_close(single.loss, expected.loss)


def test_adaptive_log_softmax_bad_target_raises_torchs_error():
    ours, theirs = _adaptive_pair(False)
    x, target = arr(3, 16), np.array([0, 20, 3])
    expected = _torch_error(theirs, to_torch(x), to_torch(target))
    for error in _both_modes(lambda a, t: ours(a, t).loss, to_gn(x), to_gn(target)):
        assert type(error) is RuntimeError and str(error).startswith(str(expected))
