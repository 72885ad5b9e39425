"""embedding_bag against torch 2.13: scale_grad_by_freq (refused before; 'sum' and 'mean'
give PyTorch's CPU gradients, 'max' raises its ValueError) and the empty corners: empty
input, empty bags in the middle or at the end, include_last_offset, no bags at all.
Values and gradients, eager and compiled."""

import numpy as np
import pytest
import torch

import graphnet as G

W = (np.random.RandomState(1).randn(7, 3)).astype(np.float32)


def _bag(lib, idx, offsets, compiled=False, psw=None, **kw):
    """(output, weight grad, per_sample_weights grad) of sum(out * ramp)."""
    w = lib.tensor(W.copy(), requires_grad=True)
    p = None if psw is None else lib.tensor(np.asarray(psw, np.float32), requires_grad=True)
    idx_t = lib.tensor(np.asarray(idx, np.int64).reshape(np.shape(idx)))
    off_t = None if offsets is None else lib.tensor(np.asarray(offsets, np.int64))

    def run(w, p):
        out = lib.nn.functional.embedding_bag(idx_t, w, off_t, per_sample_weights=p, **kw)
        ramp = lib.arange(out.numel(), dtype=out.dtype).reshape(tuple(out.shape)) + 1
        (out * ramp).sum().backward()
        return out

    out = (G.compile(run) if compiled else run)(w, p)
    return (out.detach().numpy(), w.grad.numpy() if w.grad is not None else np.zeros_like(W),
            None if p is None else p.grad.numpy())


def _same(got, want):
    for g, t in zip(got, want):
        if t is None:
            assert g is None
        else:
            assert g.shape == t.shape
            np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


FREQ_CASES = [
    ([1, 1, 2, 1, 3, 3, 0, 5], [0, 3, 5], {}),
    ([0, 0, 1], [0], {}),                                   # PyTorch: row 1 gets 1/2
    ([4, 2, 4, 6, 2, 2, 4], [0, 2, 2, 6], {}),              # an empty bag in the middle
    ([4, 2, 4, 6, 2, 2, 4], [0, 2, 7], {}),                 # an empty bag at the end
    ([1, 1, 2, 1, 3, 3, 0, 5], [0, 3, 5, 8], {"include_last_offset": True}),
    ([1, 1, 2, 1, 3, 3, 0, 5], [0, 3, 5], {"padding_idx": 1}),
    ([[1, 2, 1], [3, 1, 1]], None, {}),                     # 2-D input: bags of 3
]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("idx,offsets,kw", FREQ_CASES)
def test_scale_grad_by_freq_gives_torch_gradients(idx, offsets, kw, mode, compiled):
    want = _bag(torch, idx, offsets, mode=mode, scale_grad_by_freq=True, **kw)
    _same(_bag(G, idx, offsets, compiled, mode=mode, scale_grad_by_freq=True, **kw), want)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_scale_grad_by_freq_with_per_sample_weights(compiled):
    idx, offsets, psw = [1, 1, 2, 1, 3, 3, 0, 5], [0, 3, 5], np.linspace(0.1, 0.8, 8)
    want = _bag(torch, idx, offsets, psw=psw, mode="sum", scale_grad_by_freq=True)
    _same(_bag(G, idx, offsets, compiled, psw=psw, mode="sum", scale_grad_by_freq=True), want)


def test_the_values_do_not_change_with_scale_grad_by_freq():
    plain = _bag(G, [1, 1, 2], [0, 1], mode="mean")[0]
    np.testing.assert_array_equal(_bag(G, [1, 1, 2], [0, 1], mode="mean",
                                       scale_grad_by_freq=True)[0], plain)


@pytest.mark.parametrize("lib", [torch, G], ids=["torch", "graphnet"])
def test_max_mode_refuses_scale_grad_by_freq_and_sparse(lib):
    w, idx, off = lib.tensor(W), lib.tensor([1, 2]), lib.tensor([0])
    with pytest.raises(ValueError, match="max mode does not support scaling the gradient"):
        lib.nn.functional.embedding_bag(idx, w, off, mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        lib.nn.functional.embedding_bag(idx, w, off, mode="max", sparse=True)
    with pytest.raises(ValueError, match="max mode does not support scaling the gradient"):
        lib.nn.EmbeddingBag(7, 3, mode="max", scale_grad_by_freq=True)(idx, off)


def test_embedding_bag_module_scale_grad_by_freq_matches_torch():
    results = []
    for lib in (torch, G):
        bag = lib.nn.EmbeddingBag(7, 3, mode="sum", scale_grad_by_freq=True)
        with lib.no_grad():
            bag.weight.copy_(lib.tensor(W))
        out = bag(lib.tensor([[0, 0, 1], [2, 0, 2]]))
        (out * lib.arange(6.0).reshape(2, 3)).sum().backward()
        results.append((out.detach().numpy(), bag.weight.grad.numpy()))
    _same(results[1], results[0])


EMPTY_CASES = [
    ([], [0], {}), ([], [0, 0], {}), ([], [0, 0, 0], {"include_last_offset": True}),
    ([], [0], {"include_last_offset": True}), ([], [], {}),
    ([1, 2, 3], [0, 0, 3], {}), ([1, 2, 3], [0, 1, 1, 3], {}), ([1, 2, 3], [0, 3], {}),
    ([1, 2, 3], [0, 3, 3], {}), ([1, 2, 3], [0, 1, 3, 3], {"include_last_offset": True}),
    ([1, 2, 3], [0, 3, 3], {"include_last_offset": True}),
    ([1, 2, 3], [0, 1, 1, 3], {"padding_idx": 2}), (np.zeros((0, 3), int), None, {}),
]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("idx,offsets,kw", EMPTY_CASES)
def test_empty_inputs_and_bags_match_torch(idx, offsets, kw, mode, compiled=False):
    _same(_bag(G, idx, offsets, compiled, mode=mode, **kw), _bag(torch, idx, offsets, mode=mode,
                                                                  **kw))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("idx,offsets,kw", [EMPTY_CASES[i] for i in (0, 2, 5, 9, 12)])
def test_compiled_empty_inputs_and_bags_match_torch(idx, offsets, kw, mode):
    test_empty_inputs_and_bags_match_torch(idx, offsets, kw, mode, compiled=True)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets,ilo", [([0], True), ([], False)])
def test_no_bags_for_the_indices_give_an_empty_result(offsets, ilo, mode, compiled):
    # NOTE: torch 2.13 crashes (segfault) here; no bag holds a position, so [0, dim] and
    # zero gradients
    out, grad, _ = _bag(G, [1, 2, 3], offsets, compiled, mode=mode, include_last_offset=ilo)
    assert out.shape == (0, 3)
    np.testing.assert_array_equal(grad, np.zeros_like(W))


@pytest.mark.parametrize("lib", [torch, G], ids=["torch", "graphnet"])
def test_refusals_for_empty_shapes_match_torch(lib):
    w = lib.tensor(W)
    with pytest.raises(RuntimeError, match="include_last_offset: number of offset should be"):
        lib.nn.functional.embedding_bag(lib.tensor([1, 2]), w, lib.tensor([], dtype=lib.int64),
                                        include_last_offset=True)
    for shape in [(1, 0), (3, 0)]:   # 2-D input with bags of no index: arange's step 0
        with pytest.raises(RuntimeError, match="step must be nonzero"):
            lib.nn.functional.embedding_bag(lib.zeros(shape, dtype=lib.int64), w)
