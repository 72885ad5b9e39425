"""grad_fn names against PyTorch 2.13 where one graphnet op stands for several PyTorch nodes
or PyTorch composes the function from ordinary ops (graphnet/_grad_fn_names.py,
graphnet/_grad_fn_names_nn.py): addmm, interpolate, adaptive pools, dropout, the losses,
sum(dim=None), zero_/fill_, activations, einsum, reshape of a view, in-place layout
methods, attention. Each case also compares the values, and a few the gradients: only the
name changes."""

import inspect
import warnings

import numpy as np
import pytest
from parity import assert_close, np_of, torch

import graphnet

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 6)).astype(np.float32)
X3 = rng.standard_normal((2, 5, 4)).astype(np.float32)
X4 = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
X5 = rng.standard_normal((2, 2, 4, 4, 4)).astype(np.float32)
SEQ = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)


def leaf(lib, a):
    return lib.tensor(a, requires_grad=True)


def const(lib, a):
    return lib.tensor(a)


def name_of(out, lib) -> str:
    return type(out.grad_fn).__name__ if lib is torch else out.grad_fn.name()


# (id, fn(lib, F) -> tensor, compare values)
CASES = [
    ("addmm", lambda L, F: L.addmm(leaf(L, A[0, :2]), leaf(L, A[:, :3]), leaf(L, A[:3, :2]))),
    ("addmm beta0 alpha2", lambda L, F: L.addmm(leaf(L, A[0, :2]), leaf(L, A[:, :3]),
                                                 const(L, A[:3, :2]), beta=0, alpha=2)),
    ("Tensor.addmm", lambda L, F: leaf(L, A[:, :2]).addmm(const(L, A[:, :3]),
                                                          const(L, A[:3, :2]))),
    ("addmv", lambda L, F: L.addmv(leaf(L, A[:, 0]), const(L, A), const(L, A[0]))),
    ("baddbmm", lambda L, F: L.baddbmm(leaf(L, X3[:, :, :2]), const(L, X3),
                                       const(L, X3[:, :4, :2]))),
    ("addr", lambda L, F: L.addr(leaf(L, A), const(L, A[:, 0]), const(L, A[0]))),
    ("addcmul", lambda L, F: L.addcmul(leaf(L, A), leaf(L, A), leaf(L, A), value=0.5)),
    ("addcdiv", lambda L, F: L.addcdiv(leaf(L, A), leaf(L, A), const(L, A) + 3)),
    ("interpolate nearest 1d", lambda L, F: F.interpolate(leaf(L, X3), scale_factor=2)),
    ("interpolate nearest 2d", lambda L, F: F.interpolate(leaf(L, X4), scale_factor=2)),
    ("interpolate nearest 3d", lambda L, F: F.interpolate(leaf(L, X5), size=(5, 6, 7))),
    ("interpolate nearest-exact 2d", lambda L, F: F.interpolate(leaf(L, X4), size=(4, 9),
                                                                mode="nearest-exact")),
    ("interpolate linear", lambda L, F: F.interpolate(leaf(L, X3), scale_factor=2,
                                                      mode="linear")),
    ("interpolate bilinear", lambda L, F: F.interpolate(leaf(L, X4), scale_factor=2,
                                                        mode="bilinear")),
    ("interpolate bilinear corners", lambda L, F: F.interpolate(
        leaf(L, X4), size=(5, 5), mode="bilinear", align_corners=True)),
    ("interpolate bicubic", lambda L, F: F.interpolate(leaf(L, X4), scale_factor=2,
                                                       mode="bicubic")),
    ("interpolate trilinear", lambda L, F: F.interpolate(leaf(L, X5), scale_factor=2,
                                                         mode="trilinear")),
    ("interpolate area 2d", lambda L, F: F.interpolate(leaf(L, X4), size=(3, 2), mode="area")),
    ("interpolate area to 1", lambda L, F: F.interpolate(leaf(L, X4), size=1, mode="area")),
    ("interpolate area 1d", lambda L, F: F.interpolate(leaf(L, X3), size=3, mode="area")),
    ("Upsample", lambda L, F: L.nn.Upsample(scale_factor=2, mode="bilinear")(leaf(L, X4))),
    ("adaptive_avg_pool2d 1", lambda L, F: F.adaptive_avg_pool2d(leaf(L, X4), 1)),
    ("adaptive_avg_pool2d 2", lambda L, F: F.adaptive_avg_pool2d(leaf(L, X4), 2)),
    ("adaptive_avg_pool2d (1, 2)", lambda L, F: F.adaptive_avg_pool2d(leaf(L, X4), (1, 2))),
    ("adaptive_avg_pool2d unbatched 1", lambda L, F: F.adaptive_avg_pool2d(leaf(L, X3), 1)),
    ("AdaptiveAvgPool2d((1, 1))", lambda L, F: L.nn.AdaptiveAvgPool2d((1, 1))(leaf(L, X4))),
    ("adaptive_avg_pool1d", lambda L, F: F.adaptive_avg_pool1d(leaf(L, X3), 2)),
    ("adaptive_avg_pool3d 1", lambda L, F: F.adaptive_avg_pool3d(leaf(L, X5), 1)),
    ("adaptive_avg_pool3d 2", lambda L, F: F.adaptive_avg_pool3d(leaf(L, X5), 2)),
    ("adaptive_max_pool1d", lambda L, F: F.adaptive_max_pool1d(leaf(L, X3), 2)),
    ("adaptive_max_pool2d 1", lambda L, F: F.adaptive_max_pool2d(leaf(L, X4), 1)),
    ("adaptive_max_pool2d indices", lambda L, F: F.adaptive_max_pool2d(
        leaf(L, X4), 2, return_indices=True)[0]),
    ("adaptive_max_pool3d", lambda L, F: F.adaptive_max_pool3d(leaf(L, X5), 2)),
    ("cross_entropy 2-d", lambda L, F: F.cross_entropy(leaf(L, A), L.tensor([0, 1, 2, 5]))),
    ("cross_entropy 1-d", lambda L, F: F.cross_entropy(leaf(L, A[0]), L.tensor(2))),
    ("cross_entropy 1-d none", lambda L, F: F.cross_entropy(leaf(L, A[0]), L.tensor(2),
                                                            reduction="none")),
    ("cross_entropy 3-d", lambda L, F: F.cross_entropy(leaf(L, X3[:, :3]),
                                                       L.tensor([[0, 1, 2, 1], [2, 1, 0, 0]]))),
    ("cross_entropy 3-d none", lambda L, F: F.cross_entropy(
        leaf(L, X3[:, :3]), L.tensor([[0, 1, 2, 1], [2, 1, 0, 0]]), reduction="none")),
    ("cross_entropy 4-d none", lambda L, F: F.cross_entropy(
        leaf(L, X4), L.zeros(2, 6, 6, dtype=L.int64), reduction="none")),
    ("cross_entropy 5-d sum", lambda L, F: F.cross_entropy(
        leaf(L, X5), L.zeros(2, 4, 4, 4, dtype=L.int64), reduction="sum")),
    ("cross_entropy label_smoothing", lambda L, F: F.cross_entropy(
        leaf(L, A), L.tensor([0, 1, 2, 5]), label_smoothing=0.1)),
    ("cross_entropy label_smoothing 4-d none", lambda L, F: F.cross_entropy(
        leaf(L, X4), L.zeros(2, 6, 6, dtype=L.int64), label_smoothing=0.2, reduction="none")),
    ("cross_entropy probabilities", lambda L, F: F.cross_entropy(
        leaf(L, A), const(L, A).softmax(1))),
    ("cross_entropy probabilities sum", lambda L, F: F.cross_entropy(
        leaf(L, A), const(L, A).softmax(1), reduction="sum")),
    ("CrossEntropyLoss 3-d", lambda L, F: L.nn.CrossEntropyLoss()(
        leaf(L, X3[:, :3]), L.tensor([[0, 1, 2, 1], [2, 1, 0, 0]]))),
    ("nll_loss 1-d none", lambda L, F: F.nll_loss(leaf(L, A[0]), L.tensor(2), reduction="none")),
    ("nll_loss 3-d", lambda L, F: F.nll_loss(leaf(L, X3[:, :3]),
                                             L.tensor([[0, 1, 2, 1], [2, 1, 0, 0]]))),
    ("nll_loss 4-d", lambda L, F: F.nll_loss(leaf(L, X4), L.zeros(2, 6, 6, dtype=L.int64))),
    ("l1_loss", lambda L, F: F.l1_loss(leaf(L, A), const(L, A) * 2)),
    ("l1_loss sum", lambda L, F: F.l1_loss(leaf(L, A), const(L, A) * 2, reduction="sum")),
    ("l1_loss none", lambda L, F: F.l1_loss(leaf(L, A), const(L, A) * 2, reduction="none")),
    ("L1Loss", lambda L, F: L.nn.L1Loss()(const(L, A), leaf(L, A) * 2)),
    ("x.sum(dim=None)", lambda L, F: leaf(L, A).sum(dim=None)),
    ("x.sum(None, keepdim=True)", lambda L, F: leaf(L, A).sum(None, True)),
    ("torch.sum(x, dim=None)", lambda L, F: L.sum(leaf(L, A), dim=None)),
    ("x.sum()", lambda L, F: leaf(L, A).sum()),
    ("x.sum(dtype)", lambda L, F: leaf(L, A).sum(dtype=L.float64)),
    ("x.mean(dim=None)", lambda L, F: leaf(L, A).mean(dim=None)),
    ("x.mean()", lambda L, F: leaf(L, A).mean()),
    ("zero_", lambda L, F: (leaf(L, A) * 1).zero_()),
    ("fill_ float", lambda L, F: (leaf(L, A) * 1).fill_(2.0)),
    ("fill_ int", lambda L, F: (leaf(L, A) * 1).fill_(2)),
    ("fill_ tensor", lambda L, F: (leaf(L, A) * 1).fill_(L.tensor(2.0))),
    ("fill_ tensor with grad", lambda L, F: L.zeros(2, 3).fill_(leaf(L, np.float32(2.0)))),
    ("hardswish", lambda L, F: F.hardswish(leaf(L, A))),
    ("Hardswish inplace", lambda L, F: L.nn.Hardswish(inplace=True)(leaf(L, A) * 1)),
    ("hardsigmoid", lambda L, F: F.hardsigmoid(leaf(L, A))),
    ("mish", lambda L, F: F.mish(leaf(L, A))),
    ("selu", lambda L, F: F.selu(leaf(L, A))),
    ("selu inplace", lambda L, F: F.selu(leaf(L, A) * 1, inplace=True)),
    ("celu", lambda L, F: F.celu(leaf(L, A), 0.5)),
    ("celu inplace", lambda L, F: F.celu(leaf(L, A) * 1, inplace=True)),
    ("elu inplace", lambda L, F: F.elu(leaf(L, A) * 1, inplace=True)),
    ("leaky_relu inplace", lambda L, F: F.leaky_relu(leaf(L, A) * 1, inplace=True)),
    ("glu", lambda L, F: F.glu(leaf(L, A))),
    ("glu dim 0", lambda L, F: F.glu(leaf(L, A), 0)),
    ("logsigmoid", lambda L, F: F.logsigmoid(leaf(L, A))),
    ("relu6", lambda L, F: F.relu6(leaf(L, A))),
    ("ReLU6", lambda L, F: L.nn.ReLU6()(leaf(L, A))),
    ("softshrink", lambda L, F: F.softshrink(leaf(L, A))),
    ("hardshrink", lambda L, F: F.hardshrink(leaf(L, A))),
    ("threshold", lambda L, F: F.threshold(leaf(L, A), 0.1, 20.0)),
    ("threshold inplace", lambda L, F: F.threshold(leaf(L, A) * 1, 0.1, 20.0, inplace=True)),
    ("rrelu eval", lambda L, F: F.rrelu(leaf(L, A))),
    ("trace", lambda L, F: leaf(L, A[:, :4]).trace()),
    ("torch.trace rectangular", lambda L, F: L.trace(leaf(L, A))),
    ("div floor", lambda L, F: leaf(L, A).div(2, rounding_mode="floor")),
    ("div floor tensor", lambda L, F: L.div(leaf(L, A), const(L, A) + 3, rounding_mode="floor")),
    ("div trunc", lambda L, F: leaf(L, A).div(2, rounding_mode="trunc")),
    ("div_ trunc", lambda L, F: (leaf(L, A) * 1).div_(const(L, A) + 3, rounding_mode="trunc")),
    ("einsum ij,jk->ik", lambda L, F: L.einsum("ij,jk->ik", leaf(L, A), const(L, A.T.copy()))),
    ("einsum ij,jk", lambda L, F: L.einsum("ij,jk", leaf(L, A), leaf(L, A.T.copy()))),
    ("einsum bij,bjk->bik", lambda L, F: L.einsum("bij,bjk->bik", leaf(L, X3),
                                                  const(L, X3.transpose(0, 2, 1).copy()))),
    ("einsum i,j->ij", lambda L, F: L.einsum("i,j->ij", leaf(L, A[0]), const(L, A[1]))),
    ("einsum ij,ij->ij", lambda L, F: L.einsum("ij,ij->ij", leaf(L, A), const(L, A))),
    ("einsum ij,ij->", lambda L, F: L.einsum("ij,ij->", leaf(L, A), const(L, A))),
    ("einsum 3 operands", lambda L, F: L.einsum("ij,jk,kl->il", leaf(L, A), const(L, A.T.copy()),
                                                const(L, A))),
    ("einsum ij->ji", lambda L, F: L.einsum("ij->ji", leaf(L, A))),
    ("einsum ij", lambda L, F: L.einsum("ij", leaf(L, A))),
    ("einsum ii->i", lambda L, F: L.einsum("ii->i", leaf(L, A[:, :4]))),
    ("einsum ii", lambda L, F: L.einsum("ii", leaf(L, A[:, :4]))),
    ("einsum ij->j", lambda L, F: L.einsum("ij->j", leaf(L, A))),
    ("einsum ...ij->ij", lambda L, F: L.einsum("...ij->ij", leaf(L, X3))),
    ("einsum ...ij->ij of a matrix", lambda L, F: L.einsum("...ij->ij", leaf(L, A))),
    ("einsum sublists", lambda L, F: L.einsum(leaf(L, A), [0, 1], const(L, A), [2, 1], [0, 2])),
    ("t().reshape(-1)", lambda L, F: leaf(L, A).t().reshape(-1)),
    ("t().reshape(3, 8)", lambda L, F: leaf(L, A).t().reshape(3, 8)),
    ("t().reshape(6, 4)", lambda L, F: leaf(L, A).t().reshape(6, 4)),
    ("t().flatten()", lambda L, F: leaf(L, A).t().flatten()),
    ("torch.reshape(t)", lambda L, F: L.reshape(leaf(L, A).t(), (-1,))),
    ("slice reshape", lambda L, F: leaf(L, A)[:, :3].reshape(-1)),
    ("contiguous slice reshape", lambda L, F: leaf(L, A)[2:].reshape(-1)),
    ("column reshape", lambda L, F: leaf(L, A)[:, 0].reshape(2, 2)),
    ("permute reshape", lambda L, F: leaf(L, X4).permute(0, 2, 3, 1).reshape(-1, 3)),
    ("expand reshape", lambda L, F: leaf(L, A[0]).unsqueeze(0).expand(2, 6).reshape(12)),
    ("reshape", lambda L, F: leaf(L, A).reshape(6, 4)),
    ("t().view", lambda L, F: leaf(L, A).t().view(2, 3, 4)),
    ("unsqueeze_", lambda L, F: (leaf(L, A) * 1).unsqueeze_(1)),
    ("t_", lambda L, F: (leaf(L, A) * 1).t_()),
    ("transpose_", lambda L, F: (leaf(L, X3) * 1).transpose_(0, 2)),
    ("squeeze_()", lambda L, F: (leaf(L, X3[:1]) * 1).squeeze_()),
    ("squeeze_(0)", lambda L, F: (leaf(L, X3[:1]) * 1).squeeze_(0)),
    ("squeeze_((0,))", lambda L, F: (leaf(L, X3[:1]) * 1).squeeze_((0,))),
    ("std_mean std", lambda L, F: L.std_mean(leaf(L, X3))[0]),
    ("std_mean mean", lambda L, F: L.std_mean(leaf(L, X3), 1, keepdim=True)[1]),
    ("var_mean var", lambda L, F: L.var_mean(leaf(L, X3), (0, 2), correction=0)[0]),
    ("var_mean mean", lambda L, F: L.var_mean(leaf(L, X3))[1]),
    ("pairwise_distance", lambda L, F: F.pairwise_distance(leaf(L, X3[0]), const(L, X3[1]))),
    ("PairwiseDistance keepdim p1", lambda L, F: L.nn.PairwiseDistance(1, keepdim=True)(
        leaf(L, X3[0]), const(L, X3[1]))),
    ("cosine_similarity", lambda L, F: F.cosine_similarity(leaf(L, X3[0]), const(L, X3[1]))),
    ("pixel_shuffle", lambda L, F: F.pixel_shuffle(leaf(L, X4[:, :, :4, :4].reshape(2, 12, 2, 2)),
                                                   2)),
    ("pixel_unshuffle", lambda L, F: F.pixel_unshuffle(leaf(L, X4), 3)),
    ("local_response_norm", lambda L, F: F.local_response_norm(leaf(L, X4), 2)),
    ("sdpa 3-d", lambda L, F: F.scaled_dot_product_attention(leaf(L, X3), const(L, X3),
                                                             const(L, X3))),
    ("sdpa 4-d", lambda L, F: F.scaled_dot_product_attention(leaf(L, SEQ), const(L, SEQ),
                                                             const(L, SEQ))),
    ("sdpa 4-d causal value", lambda L, F: F.scaled_dot_product_attention(
        const(L, SEQ), const(L, SEQ), leaf(L, SEQ), is_causal=True)),
    ("sdpa 4-d mask", lambda L, F: F.scaled_dot_product_attention(
        leaf(L, SEQ), const(L, SEQ), const(L, SEQ), attn_mask=L.ones(5, 5, dtype=L.bool))),
    ("sdpa 4-d 3-d mask", lambda L, F: F.scaled_dot_product_attention(
        leaf(L, SEQ), const(L, SEQ), const(L, SEQ), attn_mask=L.zeros(3, 5, 5))),
    ("sdpa 4-d broadcast batch", lambda L, F: F.scaled_dot_product_attention(
        leaf(L, SEQ), const(L, SEQ[:1]), const(L, SEQ[:1]))),
    ("sdpa 4-d transposed", lambda L, F: F.scaled_dot_product_attention(
        leaf(L, SEQ.transpose(0, 2, 1, 3).copy()).transpose(1, 2), const(L, SEQ),
        const(L, SEQ))),
    ("sdpa 4-d last dim strided", lambda L, F: F.scaled_dot_product_attention(
        leaf(L, SEQ.transpose(0, 1, 3, 2).copy()).transpose(2, 3), const(L, SEQ),
        const(L, SEQ))),
    ("sdpa 4-d grouped heads", lambda L, F: F.scaled_dot_product_attention(
        leaf(L, SEQ[:, :2].repeat(2, axis=1)), const(L, SEQ[:, :2]), const(L, SEQ[:, :2]),
        enable_gqa=True)),
    ("sdpa 2-d", lambda L, F: F.scaled_dot_product_attention(leaf(L, A), const(L, A),
                                                             const(L, A))),
]

# (loss, reduction='none' node, call(L, F, reduction))
LOSSES = [
    ("triplet_margin_loss", lambda L, F, r: F.triplet_margin_loss(
        leaf(L, X3[0]), const(L, X3[1]), const(L, X3[0]) * 2, reduction=r)),
    ("triplet_margin_loss swap", lambda L, F, r: F.triplet_margin_loss(
        leaf(L, X3[0]), const(L, X3[1]), const(L, X3[0]) * 2, swap=True, reduction=r)),
    ("margin_ranking_loss", lambda L, F, r: F.margin_ranking_loss(
        leaf(L, X3[0, 0]), const(L, X3[1, 0]), L.tensor([1.0, -1.0, 1.0, 1.0]), reduction=r)),
    ("hinge_embedding_loss", lambda L, F, r: F.hinge_embedding_loss(
        leaf(L, X3[0, 0]), L.tensor([1.0, -1.0, 1.0, 1.0]), reduction=r)),
    ("cosine_embedding_loss", lambda L, F, r: F.cosine_embedding_loss(
        leaf(L, X3[0]), const(L, X3[1]), L.tensor([1.0, -1.0, 1.0, 1.0, 1.0]), reduction=r)),
    ("poisson_nll_loss", lambda L, F, r: F.poisson_nll_loss(
        leaf(L, X3), const(L, np.abs(X3)), reduction=r)),
    ("poisson_nll_loss full", lambda L, F, r: F.poisson_nll_loss(
        leaf(L, X3), const(L, np.abs(X3)) + 1, full=True, reduction=r)),
    ("gaussian_nll_loss", lambda L, F, r: F.gaussian_nll_loss(
        leaf(L, X3), const(L, X3) * 2, L.ones(2, 5, 4), reduction=r)),
    ("gaussian_nll_loss full", lambda L, F, r: F.gaussian_nll_loss(
        leaf(L, X3), const(L, X3) * 2, L.ones(2, 5, 4), full=True, reduction=r)),
    ("multilabel_soft_margin_loss", lambda L, F, r: F.multilabel_soft_margin_loss(
        leaf(L, X3[0]), const(L, (X3[0] > 0).astype(np.float32)), reduction=r)),
    ("l1_loss", lambda L, F, r: F.l1_loss(leaf(L, A), const(L, A) * 2, reduction=r)),
]


def both(make):
    """`make(lib, F)` in PyTorch and graphnet, from the same seed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = []
        for lib in (torch, graphnet):
            lib.manual_seed(0)
            out.append(make(lib, lib.nn.functional))
    return out


@pytest.mark.parametrize("make", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_grad_fn_name_and_values_like_torch(make):
    want, got = both(make)
    assert got.grad_fn.name() == type(got.grad_fn).__name__ == name_of(want, torch)
    assert_close(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("make", [c[1] for c in LOSSES], ids=[c[0] for c in LOSSES])
def test_composed_losses_are_named_by_their_last_op_like_torch(make, reduction):
    want, got = both(lambda lib, F: make(lib, F, reduction))
    assert name_of(got, graphnet) == name_of(want, torch)
    assert_close(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("make", [
    lambda L, F: F.dropout(leaf(L, A), 0.5),
    lambda L, F: L.nn.Dropout(0.3)(leaf(L, A)),
    lambda L, F: F.dropout2d(leaf(L, X4), 0.5),
    lambda L, F: F.dropout1d(leaf(L, X3), 0.5),
    lambda L, F: F.dropout3d(leaf(L, X5), 0.5),
    lambda L, F: L.dropout(leaf(L, A), 0.5, True),
    lambda L, F: F.rrelu(leaf(L, A), training=True),
    lambda L, F: F.rrelu(leaf(L, A) * 1, training=True, inplace=True),
    lambda L, F: F.scaled_dot_product_attention(leaf(L, SEQ), const(L, SEQ), const(L, SEQ),
                                                dropout_p=0.5),
    lambda L, F: F.scaled_dot_product_attention(leaf(L, SEQ), const(L, SEQ), const(L, SEQ),
                                                dropout_p=1.0),
], ids=["dropout", "Dropout", "dropout2d", "dropout1d", "dropout3d", "torch.dropout",
        "rrelu training", "rrelu inplace", "sdpa dropout", "sdpa dropout 1"])
def test_random_layers_are_named_like_torch(make):
    # NOTE: the random draws differ from PyTorch's, so only the names and shapes compare
    want, got = both(make)
    assert name_of(got, graphnet) == name_of(want, torch)
    assert tuple(got.shape) == tuple(want.shape)


def test_dataloader_batch_of_a_tensor_dataset_is_a_stack_like_torch():
    import torch.utils.data as torch_data

    import graphnet.utils.data as gn_data

    batches = []
    for lib, data in ((torch, torch_data), (graphnet, gn_data)):
        x = leaf(lib, A)
        batches.append(next(iter(data.DataLoader(data.TensorDataset(x), batch_size=3)))[0])
    want, got = batches
    assert got.grad_fn.name() == type(want.grad_fn).__name__ == "StackBackward0"
    assert_close(got, want)


def test_renamed_nodes_keep_their_gradients():
    # only the names change: the gradients through the renamed nodes are PyTorch's
    def loss(lib, F, x):
        y = lib.addmm(x[0, :4], x[:, :6], x.t()[:6, :4]).sum(dim=None)
        y = y + F.interpolate(x.reshape(1, 1, 4, 6), scale_factor=2, mode="bilinear").mean()
        y = y + F.adaptive_avg_pool2d(x.reshape(1, 1, 4, 6), 1).sum()
        y = y + F.cross_entropy(x.reshape(2, 3, 4), lib.zeros(2, 4, dtype=lib.int64))
        y = y + lib.einsum("ij,kj->ik", x, x).sum() + x.t().reshape(-1)[3] + x[:, :4].trace()
        y = y + F.hardswish(x).sum() + F.glu(x).sum() + F.logsigmoid(x).sum()
        y = y + F.triplet_margin_loss(x[:2], x[2:] * 2, x[:2] * 3) + F.l1_loss(x, x.detach())
        return y + lib.std_mean(x, 1)[0].sum() + (x * 1).fill_(2.0).sum()

    grads = []
    for lib in (torch, graphnet):
        x = leaf(lib, A)
        loss(lib, lib.nn.functional, x).backward()
        grads.append(x.grad)
    assert_close(grads[1], grads[0], atol=1e-4, rtol=1e-4)


def test_compiled_calls_keep_their_values():
    # the same functions traced: sum's dim default and the renamed calls still compile
    def step(x, t):
        F = graphnet.nn.functional
        return (x.sum(dim=None) + x.mean() + x.sum() + graphnet.einsum("ij,jk", x, x.t())[0, 0]
                + x.t().reshape(-1)[5] + x.div(3, rounding_mode="floor").sum() + x.trace()
                + F.cross_entropy(x.reshape(2, 3, 4), t) + F.l1_loss(x, x * 2)
                + F.adaptive_avg_pool2d(x.reshape(1, 1, 4, 6), 1).sum()
                + F.interpolate(x.reshape(1, 1, 4, 6), scale_factor=2).sum())

    x, t = graphnet.tensor(A), graphnet.zeros(2, 4, dtype=graphnet.int64)
    eager = step(x, t)
    compiled = graphnet.compile(step)(x, t)
    assert_close(compiled, eager, atol=1e-4, rtol=1e-4)
    tx = torch.tensor(A)
    tf = torch.nn.functional
    want = (tx.sum() * 2 + tx.mean() + torch.einsum("ij,jk", tx, tx.t())[0, 0]
            + tx.t().reshape(-1)[5] + tx.div(3, rounding_mode="floor").sum() + tx.trace()
            + tf.cross_entropy(tx.reshape(2, 3, 4), torch.zeros(2, 4, dtype=torch.int64))
            + tf.l1_loss(tx, tx * 2) + tf.adaptive_avg_pool2d(tx.reshape(1, 1, 4, 6), 1).sum()
            + tf.interpolate(tx.reshape(1, 1, 4, 6), scale_factor=2).sum())
    assert_close(compiled, want, atol=1e-4, rtol=1e-4)


def test_sum_and_mean_still_show_dim_none():
    # the default that tells `x.sum()` from `x.sum(dim=None)` prints as None
    for fn in (graphnet.sum, graphnet.mean):
        assert str(inspect.signature(fn).parameters["dim"]) == "dim=None"
    x = graphnet.tensor(A)
    assert_close(x.sum(dim=None), np_of(torch.tensor(A).sum()))
