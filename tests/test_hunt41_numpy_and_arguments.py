"""Arguments as PyTorch takes them: NumPy functions on a tensor give a tensor back (bool as
uint8) and refuse a tensor that requires grad (its values were handed over, the gradient
dropped); a NumPy array where a tensor belongs is a TypeError; a legacy empty tensor in
`cat` gets its gradient; swapdims/split/tensor_split take PyTorch's keywords; the deprecated
reduction='elementwise_mean' is 'mean' with a warning."""
import numpy as np
import pytest
import torch

import graphnet as G


def test_numpy_functions_on_a_tensor_return_tensors():
    for lib in (torch, G):
        t = lib.tensor([1.0, float("nan")])
        for fn, dtype in ((np.exp, "float32"), (np.sqrt, "float32"), (np.isnan, "uint8")):
            out = fn(t)
            assert isinstance(out, lib.Tensor) and str(out.dtype).endswith(dtype)
        assert np.isnan(t).tolist() == [0, 1]
        assert isinstance(np.maximum(t, 0.5), lib.Tensor)


def test_numpy_of_a_tensor_that_requires_grad_raises():
    for lib in (torch, G):
        w = lib.ones(2, requires_grad=True)
        for convert in (np.asarray, lambda t: np.array(t, dtype=np.float64), np.exp):
            with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that "
                                                   "requires grad"):
                convert(w)
        assert np.asarray(w.detach()).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.cross_entropy(L.ones(2, 3), np.array([0, 1])),
    lambda L: L.nn.functional.nll_loss(L.ones(2, 3), np.array([0, 1])),
    lambda L: L.cat([L.ones(2), np.ones(2)]),
    lambda L: L.cat([L.ones(2), [1.0]]),
])
def test_array_where_a_tensor_belongs_is_a_type_error(call):
    for lib in (torch, G):
        with pytest.raises(TypeError, match="Tensor"):
            call(lib)


@pytest.mark.parametrize("static", [False, True])
def test_legacy_empty_in_cat_gets_its_gradient(static):
    def f(e, b):
        return G.cat([e, b], 1).sum()

    e, b = G.zeros(0, requires_grad=True), G.ones(2, 3, requires_grad=True)
    (G.compile(f) if static else f)(e, b).backward()
    assert e.grad is not None and e.grad.shape == (0,)
    assert b.grad.tolist() == [[1.0] * 3] * 2
    assert G.cat([G.zeros(0), G.ones(2, dtype=G.int32)]).dtype == G.float32


def test_shape_keywords_as_torch_names_them():
    for lib in (torch, G):
        x = lib.arange(24.0).view(2, 3, 4)
        assert tuple(lib.swapdims(x, dim0=0, dim1=2).shape) == (4, 3, 2)
        assert tuple(x.swapdims(dim0=1, dim1=2).shape) == (2, 4, 3)
        assert [tuple(p.shape) for p in x.split(split_size=3, dim=2)] == [(2, 3, 3), (2, 3, 1)]
        for kwargs, want in ((dict(sections=2), [2, 2]), (dict(indices=[1]), [1, 3]),
                             (dict(tensor_indices_or_sections=lib.tensor([1])), [1, 3])):
            assert [p.shape[2] for p in lib.tensor_split(x, dim=2, **kwargs)] == want
            assert [p.shape[2] for p in x.tensor_split(dim=2, **kwargs)] == want


def test_elementwise_mean_reduction_is_mean():
    got = []
    for lib in (torch, G):
        x, y = lib.tensor([[1.0, 2.0], [0.5, -1.0]]), lib.tensor([0, 1])
        with pytest.warns(UserWarning, match="elementwise_mean' is deprecated"):
            a = lib.nn.functional.cross_entropy(x, y, reduction="elementwise_mean")
        with pytest.warns(UserWarning, match="elementwise_mean' is deprecated"):
            b = lib.nn.MSELoss(reduction="elementwise_mean")(x, x * 2)
        got.append((a.item(), b.item()))
    assert got[1] == pytest.approx(got[0], rel=1e-6)
