"""Loss corners where graphnet answered and PyTorch 2.13 does not, or answered otherwise, eager
and compiled: a BCE weight larger than the input broadcast the loss to its shape; learned
class weights of soft-label cross-entropy and multilabel_soft_margin_loss got no gradient;
weights with requires_grad of the kernel losses were silently left without one; soft labels
ignored `ignore_index`; mixed dtypes gave other loss dtypes (float16 logits against float32
targets: graphnet's loss was float16, PyTorch's float32) or no error."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 3)).astype(np.float32)
PROBS = RNG.dirichlet(np.ones(3), 4).astype(np.float32)
P01 = RNG.uniform(0.1, 0.9, (4, 3)).astype(np.float32)
Y01 = RNG.uniform(0.0, 1.0, (4, 3)).astype(np.float32)
W3 = np.array([0.5, 2.0, 1.5], np.float32)
LABELS = np.array([0, 2, 1, 2])


def _run(lib, fn, arrays, grads=(), compiled=False):
    """fn(F, *tensors) as loss, then the loss (summed) backward: the loss, its dtype name and
    the gradients of the tensors at `grads`, as float64 NumPy arrays."""
    ts = [lib.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]

    def step(*ts):
        loss = fn(lib.nn.functional, *ts)
        if grads:
            loss.sum().backward()
        return loss

    loss = (graphnet.compile(step) if compiled else step)(*ts)
    as64 = lambda t: t.detach().double().numpy()   # noqa: E731
    return (as64(loss), str(loss.dtype).split(".")[-1],
            [None if ts[i].grad is None else as64(ts[i].grad) for i in grads])


def _same_as_torch(fn, arrays, grads=(), rtol=1e-5, atol=1e-6):
    want = _run(torch, fn, arrays, grads)
    for compiled in (False, True):
        loss, dtype, got_grads = _run(graphnet, fn, arrays, grads, compiled)
        assert dtype == want[1], (compiled, dtype, want[1])
        np.testing.assert_allclose(loss, want[0], rtol=rtol, atol=atol)
        for got, ref in zip(got_grads, want[2]):
            assert got is not None, f"no gradient (compiled={compiled})"
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)


def _raises_like_torch(fn, arrays, grads=(), match=None):
    with pytest.raises(Exception) as want:
        _run(torch, fn, arrays, grads)
    for compiled in (False, True):
        with pytest.raises(type(want.value), match=match):
            _run(graphnet, fn, arrays, grads, compiled)


# ---- silent wrong answers -------------------------------------------------------------------
WIDE = np.array([[0.5], [2.0], [1.0], [3.0]], np.float32)   # [4, 1] against a [3] input


@pytest.mark.parametrize("case", ["bce weight", "bcel weight", "bcel pos_weight"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_a_weight_larger_than_the_input_raises_instead_of_broadcasting(case, reduction):
    def fn(F, x, y, w):
        if case == "bce weight":
            return F.binary_cross_entropy(x, y, w, reduction=reduction)
        if case == "bcel weight":
            return F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction)
        return F.binary_cross_entropy_with_logits(x, y, pos_weight=w, reduction=reduction)
    _raises_like_torch(fn, [P01[0], Y01[0], WIDE], match="doesn't match the broadcast shape")


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2, "reduction": "none"},
                                     {"reduction": "sum"}])
def test_soft_label_cross_entropy_gives_the_class_weight_its_gradient(options):
    fn = lambda F, x, t, w: F.cross_entropy(x, t, w, **options)   # noqa: E731
    _same_as_torch(fn, [LOGITS, PROBS, W3], grads=(0, 1, 2))


def test_multilabel_soft_margin_gives_the_weight_its_gradient():
    fn = lambda F, x, t, w: F.multilabel_soft_margin_loss(x, t, w)   # noqa: E731
    _same_as_torch(fn, [LOGITS, Y01, W3], grads=(0, 1, 2))


@pytest.mark.parametrize("case", ["cross_entropy", "nll_loss", "bce", "bcel weight",
                                  "bcel pos_weight", "multi_margin_loss"])
def test_kernel_weights_with_requires_grad_raise_instead_of_getting_no_gradient(case):
    def fn(F, x, w):
        if case in ("cross_entropy", "nll_loss", "multi_margin_loss"):
            labels = (torch if F is torch.nn.functional else graphnet).tensor(LABELS)
            if case == "multi_margin_loss":
                return F.multi_margin_loss(x, labels, weight=w)
            return getattr(F, case)(x, labels, w)
        y = x.detach() * 0 + 0.5
        if case == "bce":
            return F.binary_cross_entropy(x.sigmoid(), y, w)
        if case == "bcel weight":
            return F.binary_cross_entropy_with_logits(x, y, w)
        return F.binary_cross_entropy_with_logits(x, y, pos_weight=w)
    _raises_like_torch(fn, [LOGITS, W3], grads=(0, 1), match="not differentiable")


def test_soft_labels_refuse_a_class_ignore_index():
    fn = lambda F, x, t: F.cross_entropy(x, t, ignore_index=0)   # noqa: E731
    _raises_like_torch(fn, [LOGITS, PROBS], match="ignore_index is not supported")
    fn = lambda F, x, t: F.cross_entropy(x, t, ignore_index=-1)   # noqa: E731
    _same_as_torch(fn, [LOGITS, PROBS], grads=(0, 1))


# ---- dtypes ---------------------------------------------------------------------------------
F16, F64 = np.float16, np.float64


@pytest.mark.parametrize("dtypes", [(F16, np.float32, None), (np.float32, F64, None),
                                    (np.float32, np.float32, F64), (F16, F16, np.float32)])
def test_soft_label_cross_entropy_has_the_promoted_dtype(dtypes):
    x, t, w = dtypes
    arrays = [LOGITS.astype(x), PROBS.astype(t)] + ([] if w is None else [W3.astype(w)])
    fn = lambda F, *ts: F.cross_entropy(*ts)   # noqa: E731
    _same_as_torch(fn, arrays, grads=(0,), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("dtypes", [(F16, np.float32, None, None), (np.float32, F64, None, None),
                                    (F64, np.float32, None, None), (np.float32, np.float32, F64, None),
                                    (np.float32, np.float32, None, F64), (F16, F16, np.float32, None)])
def test_bce_with_logits_has_the_targets_dtype(dtypes):
    x, t, w, pw = dtypes
    arrays = [LOGITS.astype(x), Y01.astype(t), W3.astype(w or np.float32),
              W3[::-1].copy().astype(pw or np.float32)]
    fn = lambda F, x, y, w_, pw_: F.binary_cross_entropy_with_logits(   # noqa: E731
        x, y, w_ if w else None, pos_weight=pw_ if pw else None)
    _same_as_torch(fn, arrays, grads=(0,), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("weight", [F64, np.float32])
def test_bce_has_the_inputs_dtype_whatever_the_weights(weight):
    fn = lambda F, x, y, w: F.binary_cross_entropy(x, y, w)   # noqa: E731
    _same_as_torch(fn, [P01.astype(F16), Y01.astype(F16), W3.astype(weight)], grads=(0,),
                   rtol=2e-3, atol=2e-3)
    _same_as_torch(fn, [P01, Y01, W3.astype(weight)], grads=(0,))


@pytest.mark.parametrize("case", ["bce f64 target", "bce f64 input", "ce f64 weight",
                                  "ce f16 input", "ce int weight", "nll f64 weight",
                                  "multi_margin f64 weight", "kl int target"])
def test_mismatched_dtypes_raise_like_torch(case):
    def fn(F, x, y, w):
        if case.startswith("bce"):
            return F.binary_cross_entropy(x, y)
        if case == "kl int target":
            return F.kl_div(x, y, reduction="sum")
        labels = (torch if F is torch.nn.functional else graphnet).tensor(LABELS)
        if case.startswith("ce"):
            return F.cross_entropy(x, labels, w)
        if case.startswith("nll"):
            return F.nll_loss(x, labels, w)
        return F.multi_margin_loss(x, labels, weight=w)
    x, y, w = P01, Y01, W3
    if case == "bce f64 target":
        y = y.astype(F64)
    if case == "bce f64 input":
        x = x.astype(F64)
    if case in ("ce f64 weight", "nll f64 weight", "multi_margin f64 weight"):
        w = w.astype(F64)
    if case == "ce f16 input":
        x = x.astype(F16)
    if case == "ce int weight":
        w = np.array([1, 2, 1])
    if case == "kl int target":
        y = (y > 0.5).astype(np.int64)
    _raises_like_torch(fn, [x, y, w], match="Double|Float|Half|Long|Integral")


# ---- error types ----------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["smooth_l1 beta", "huber delta", "bce int target",
                                  "bcel int target"])
def test_bad_options_raise_torchs_exception_type(case):
    def fn(F, x, y):
        if case == "smooth_l1 beta":
            return F.smooth_l1_loss(x, y, beta=-1.0)
        if case == "huber delta":
            return F.huber_loss(x, y, delta=0.0)
        if case == "bce int target":
            return F.binary_cross_entropy(x, y.long())
        return F.binary_cross_entropy_with_logits(x, y.long())
    _raises_like_torch(fn, [P01, Y01])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_integer_input_with_a_float_target_is_promoted_as_torch(name):
    # torch promotes input and target first: an int64 input with a float32 target is a
    # float32 loss (graphnet raised the int64 kernel's NotImplementedError)
    want = getattr(torch.nn.functional, name)(torch.tensor([1, 2]), torch.tensor([1.5, 2.0]))
    for fn in (getattr(graphnet.nn.functional, name),
               graphnet.compile(lambda a, b: getattr(graphnet.nn.functional, name)(a, b))):
        got = fn(graphnet.tensor([1, 2]), graphnet.tensor([1.5, 2.0]))
        assert got.dtype == graphnet.float32 and got.item() == want.item()
    with pytest.raises((NotImplementedError, RuntimeError)):
        getattr(graphnet.nn.functional, name)(graphnet.tensor([1, 2]), graphnet.tensor([1, 3]))
