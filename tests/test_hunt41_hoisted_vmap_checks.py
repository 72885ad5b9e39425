"""A label or index check inside a vmap, of values the program computes from captured state
only (`labels - 1` of a global tensor): the compile splits that computation into a hoisted
prologue, and the check's row was dropped when the rows were put back in order, so an
out-of-range label gave numbers instead of PyTorch's error."""
import numpy as np
import pytest

import graphnet as G

F = G.nn.functional
LABELS = G.tensor([1, 2, 3, 4])       # one-based: 4 is out of range for 3 classes


def _per_sample_grads(labels):
    model = G.nn.Linear(4, 3)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss_fn(p, xi, yi):
        return F.cross_entropy(G.func.functional_call(model, p, (xi[None],)), yi[None])

    def per_sample(p, x):
        y = labels - 1
        return G.func.vmap(G.func.grad(loss_fn), in_dims=(None, 0, 0))(p, x, y)["weight"]

    return per_sample, params


@pytest.mark.parametrize("static", [False, True])
def test_out_of_range_label_from_state_raises_under_vmap(static):
    fn, params = _per_sample_grads(LABELS)
    fn = G.compile(fn) if static else fn
    x = G.tensor(np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        fn(params, x)


@pytest.mark.parametrize("labels", [G.tensor([0, 1, 3, 1]), G.full((4,), 7)])
def test_index_from_state_checked_under_vmap(labels):
    fn = G.compile(lambda x: G.func.vmap(lambda a, b: a[b])(x, (labels + 0).clone()))
    with pytest.raises(IndexError, match="out of bounds"):
        fn(G.ones(4, 3))


def test_valid_labels_from_state_still_compute():
    good = G.tensor([1, 2, 3, 1])
    fn, params = _per_sample_grads(good)
    x = G.tensor(np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32))
    np.testing.assert_allclose(G.compile(fn)(params, x).numpy(), fn(params, x).numpy(),
                               rtol=1e-5, atol=1e-7)
