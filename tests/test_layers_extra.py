"""Bilinear, EmbeddingBag, the alpha/3-D dropouts, Softmax2d, CrossMapLRN2d, gumbel_softmax
and Embedding(max_norm) against PyTorch, in dynamic and static mode."""

import numpy as np
import pytest
from parity import assert_close, check_module, copy_torch_params, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn
from graphnet.nn import functional as F

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def pair(make):
    return make(nn), make(torch.nn)


def wrapped(forward, make):
    def build(lib_nn, lib):
        class Wrap(lib_nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = make(lib_nn)

            def forward(self, *inputs):
                return forward(self, lib, *inputs)
        return Wrap()
    return build(nn, graphnet), build(torch.nn, torch)


# ---- Bilinear ------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(bias):
    ours, theirs = pair(lambda m: m.Bilinear(3, 5, 4, bias=bias))
    check_module(ours, theirs, [arr(2, 6, 3), arr(2, 6, 5)])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    w = np_of(ours.weight)
    fresh = np_of(nn.Bilinear(3, 5, 4).weight)
    assert np.abs(fresh).max() <= 1 / np.sqrt(3) and fresh.std() > 0.1 and w.shape == (4, 3, 5)


def test_bilinear_errors():
    with pytest.raises(RuntimeError, match="batch dimensions"):
        F.bilinear(graphnet.randn(2, 3), graphnet.randn(3, 5), graphnet.randn(4, 3, 5))


# ---- EmbeddingBag --------------------------------------------------------------------------
BAG_CASES = {
    "2d_mean": (dict(mode="mean"), [np.array([[1, 2, 4], [4, 3, 9]])]),
    "offsets_sum_empty_bag": (dict(mode="sum"), [np.array([1, 2, 4, 5, 4, 3]),
                                                 np.array([0, 2, 2])]),
    "max_padding": (dict(mode="max", padding_idx=4), [np.array([1, 4, 4, 5, 4, 3]),
                                                      np.array([0, 1, 3])]),
    "mean_padding_last_offset": (dict(mode="mean", padding_idx=2, include_last_offset=True),
                                 [np.array([1, 2, 4, 5, 2, 3]), np.array([0, 2, 4, 6])]),
    "sum_last_offset": (dict(mode="sum", include_last_offset=True),
                        [np.array([1, 2, 4, 5, 2, 3]), np.array([0, 2, 4, 6])]),
}


@pytest.mark.parametrize("case", BAG_CASES)
def test_embedding_bag_module(case):
    kwargs, inputs = BAG_CASES[case]
    ours, theirs = pair(lambda m: m.EmbeddingBag(10, 3, **kwargs))
    check_module(ours, theirs, inputs)
    assert repr(ours) == repr(theirs)
    if kwargs.get("padding_idx") is not None:
        assert np.all(np_of(ours.weight.grad)[kwargs["padding_idx"]] == 0)


def test_embedding_bag_per_sample_weights_2d_and_pretrained():
    ours, theirs = wrapped(lambda self, lib, i, w: self.layer(i, per_sample_weights=w),
                           lambda m: m.EmbeddingBag(10, 3, mode="sum"))
    check_module(ours, theirs, [np.array([[1, 2, 4], [4, 3, 9]]), arr(2, 3)])
    table = graphnet.randn(4, 2)
    bag = nn.EmbeddingBag.from_pretrained(table, mode="max")
    assert not bag.weight.requires_grad and tuple(bag(graphnet.tensor([[0, 3]])).shape) == (1, 2)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_last_offset_short_of_the_input_matches_torch_forward(mode):
    # PyTorch's kernels disagree on positions past the last offset; we follow each of them
    idx, offsets, w = np.array([1, 2, 4, 5, 2, 3]), np.array([0, 2, 3]), arr(10, 3)
    for padding_idx in (None, 2):
        expected = torch.nn.functional.embedding_bag(
            to_torch(idx), to_torch(w), to_torch(offsets), mode=mode, include_last_offset=True,
            padding_idx=padding_idx)
        got = F.embedding_bag(to_gn(idx), to_gn(w), to_gn(offsets), mode=mode,
                              include_last_offset=True, padding_idx=padding_idx)
        assert_close(got, expected)


@pytest.mark.parametrize("indices, offsets", [
    ([1, 10], [0]), ([0, -1], [0]), ([[0, 10], [1, 2]], None), ([3, 1, 12, 2], [0, 1]),
    ([1, 12, 2, 3], [0, 2])])
def test_embedding_bag_rows_out_of_range_raise_torchs_error(indices, offsets):
    """PyTorch's RuntimeError names the row's position in its bag and its value (graphnet
    raised an IndexError of embedding's words); eager and compiled."""
    errors = []
    for lib in (torch, graphnet, "compiled"):
        call = lambda i, w, *o: (torch if lib is torch else graphnet).nn.functional \
            .embedding_bag(i, w, *o)   # noqa: E731
        make = torch if lib is torch else graphnet
        if lib == "compiled":
            call = graphnet.compile(call)
        with pytest.raises((IndexError, RuntimeError)) as caught:
            call(make.tensor(indices), make.ones(10, 3),
                 *([make.tensor(offsets)] if offsets is not None else []))
        errors.append((type(caught.value), str(caught.value).splitlines()[0]))
    assert errors[1] == errors[0] and errors[2] == errors[0]


def test_embedding_bag_errors_like_torch():
    w = graphnet.randn(10, 3)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(graphnet.tensor([1, 2]), w, graphnet.tensor([1]))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(graphnet.tensor([[1, 2]]), w, graphnet.tensor([0]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(graphnet.tensor([[1, 2]]), w, per_sample_weights=graphnet.ones(1, 2))
    with pytest.raises(ValueError, match="mode has to be one of"):
        F.embedding_bag(graphnet.tensor([[1, 2]]), w, mode="min")
    compiled = graphnet.compile(lambda i, o: F.embedding_bag(i, w, o))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        compiled(graphnet.tensor([1, 2]), graphnet.tensor([1]))


# ---- max_norm --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["Embedding", "EmbeddingBag"])
def test_max_norm_renormalises_looked_up_rows_in_place(kind):
    ours, theirs = pair(lambda m: getattr(m, kind)(6, 4, max_norm=1.0, norm_type=2.0))
    with torch.no_grad():
        theirs.weight.mul_(3)
    copy_torch_params(theirs, ours)
    idx = np.array([[0, 2, 2]])
    check_module(ours, theirs, [idx], copy=False)
    theirs(to_torch(idx))   # check_module ran ours twice (dynamic, static): same rows again
    assert_close(ours.weight, theirs.weight, what="renormalised weight")
    norms = np.linalg.norm(np_of(ours.weight), axis=1)
    assert norms[0] <= 1.0 + 1e-5 and norms[2] <= 1.0 + 1e-5 and norms[1] > 1.0


# ---- dropouts ------------------------------------------------------------------------------
def test_alpha_dropout_keeps_unit_normal_statistics():
    x = graphnet.randn(200_000)
    for p in (0.2, 0.5):
        y = np_of(F.alpha_dropout(x, p, training=True))
        assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
        a = (1 / ((1.7580993408473766 ** 2 * p + 1) * (1 - p))) ** 0.5
        dropped = np.isclose(y, 1.7580993408473766 * a * (p - 1))
        assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_array_equal(np_of(F.alpha_dropout(x, 0.5)), np_of(x))   # training=False
    assert np.all(np_of(F.alpha_dropout(x, 1.0, training=True)) == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.AlphaDropout(1.5)


def test_feature_dropouts_drop_whole_channels_and_eval_is_identity():
    x = graphnet.randn(8, 16, 2, 3, 3)
    xs = np_of(x).reshape(8, 16, -1)
    graphnet.manual_seed(0)
    p, alpha = 0.5, 1.7580993408473766
    a = (1 / ((alpha ** 2 * p + 1) * (1 - p))) ** 0.5
    for layer, kept, dropped in ((nn.FeatureAlphaDropout(p), xs * a + alpha * a * p,
                                  alpha * a * (p - 1)), (nn.Dropout3d(p), xs / (1 - p), 0.0)):
        y = np_of(layer(x)).reshape(8, 16, -1)
        is_kept = np.all(np.isclose(y, kept, atol=1e-5), axis=-1)
        is_dropped = np.all(np.isclose(y, dropped, atol=1e-5), axis=-1)
        assert np.all(is_kept | is_dropped) and 0.2 < is_dropped.mean() < 0.8   # whole channels
        layer.eval()
        np.testing.assert_array_equal(np_of(layer(x)), np_of(x))
    graphnet.manual_seed(1)
    y = np_of(graphnet.compile(lambda t: F.dropout3d(t, 0.5))(x)).reshape(8, 16, -1)
    zero = np.all(y == 0, axis=-1)
    assert 0.2 < zero.mean() < 0.8 and np.allclose(y[~zero], 2 * xs[~zero])
    assert repr(nn.Dropout3d(0.3)) == repr(torch.nn.Dropout3d(0.3))
    assert repr(nn.AlphaDropout()) == repr(torch.nn.AlphaDropout())


def test_alpha_dropout_static_matches_dynamic_under_seed():
    x = graphnet.randn(4, 5)
    graphnet.manual_seed(7)
    dynamic = np_of(F.feature_alpha_dropout(x, 0.5, training=True))
    graphnet.manual_seed(7)
    static = np_of(graphnet.compile(lambda a: F.feature_alpha_dropout(a, 0.5, True))(x))
    assert dynamic.shape == static.shape == (4, 5)
    assert not np.allclose(dynamic, np_of(x))


# ---- Softmax2d, CrossMapLRN2d, gumbel_softmax ----------------------------------------------
def test_softmax2d():
    ours, theirs = pair(lambda m: m.Softmax2d())
    check_module(ours, theirs, [arr(2, 3, 4, 4)])
    check_module(ours, theirs, [arr(3, 4, 4)])
    with pytest.raises(ValueError, match="3D or 4D"):
        ours(graphnet.randn(3, 4))


@pytest.mark.parametrize("size", [2, 3, 5])
def test_cross_map_lrn2d_values_and_pytorch_gradient(size):
    ours, theirs = pair(lambda m: m.CrossMapLRN2d(size, alpha=0.1, beta=0.7, k=2))
    check_module(ours, theirs, [arr(2, 7, 3, 3)])
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="Expected input to be 4D"):
        ours(graphnet.randn(2, 3, 4))


def test_gumbel_softmax_soft_hard_and_straight_through_grad():
    logits = to_gn(np.log(np.array([[0.7, 0.2, 0.1]] * 4000, np.float32)), requires_grad=True)
    graphnet.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(np_of(soft).sum(-1), 1, atol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    h = np_of(hard)
    assert set(np.unique(h)) == {0.0, 1.0} and np.all(h.sum(-1) == 1)
    np.testing.assert_allclose(h.mean(0), [0.7, 0.2, 0.1], atol=0.03)   # samples the categorical
    (hard * graphnet.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and np.abs(np_of(logits.grad)).sum() > 0
    static = graphnet.compile(lambda a: F.gumbel_softmax(a, hard=True))(logits.detach())
    assert np.all(np_of(static).sum(-1) == 1)
