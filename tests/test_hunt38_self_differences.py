"""A compiled difference of a computed value with itself is exactly 0, as in PyTorch.

XLA-CPU contracted the multiply inside `F.normalize` into the subtraction of
`e[:, None] - e[None]`, so the diagonal of `cdist(e, e)` (and the distance of two equal rows)
was about 1e-8 instead of 0, and its gradient there a unit vector instead of 0: a silent
wrong gradient of a metric-learning step (compiler/cancelling.py)."""

import numpy as np
import pytest
import torch

import graphnet as gn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((12, 8)).astype(np.float32)
X[7] = X[2]            # a duplicate row: a zero distance off the diagonal too
W = RNG.standard_normal((4, 8)).astype(np.float32)

FORMS = {
    "cdist": lambda lib, e: lib.cdist(e, e),
    "cdist_p1": lambda lib, e: lib.cdist(e, e, p=1),
    "cdist_inf": lambda lib, e: lib.cdist(e, e, p=float("inf")),
    "broadcast_norm": lambda lib, e: (e[:, None] - e[None]).norm(dim=-1),
    "pairwise": lambda lib, e: lib.nn.functional.pairwise_distance(e[:, None], e[None], eps=0),
    "pdist": lambda lib, e: lib.nn.functional.pdist(e),
    "rows": lambda lib, e: (e[2] - e[7]).norm() + (e[3] - e[3]).abs().sum(),
}
PRODUCERS = {
    "normalize": lambda lib, h: lib.nn.functional.normalize(h, dim=1),
    "softmax": lambda lib, h: h.softmax(dim=1),
    "layer_norm": lambda lib, h: lib.nn.functional.layer_norm(h, (4,)),
}


def _run(lib, form, producer, compiled):
    w = lib.tensor(W, requires_grad=True)

    def step(x, w):
        d = FORMS[form](lib, PRODUCERS[producer](lib, x @ w.t()))
        d.sum().backward()
        return d

    fn = gn.compile(step) if compiled else step
    d = fn(lib.tensor(X), w)
    return d.detach().numpy(), w.grad.numpy()


@pytest.mark.parametrize("producer", sorted(PRODUCERS))
@pytest.mark.parametrize("form", sorted(FORMS))
def test_static_self_difference_matches_torch(form, producer):
    want_d, want_g = _run(torch, form, producer, False)
    for compiled in (False, True):
        d, g = _run(gn, form, producer, compiled)
        np.testing.assert_allclose(d, want_d, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(g, want_g, rtol=1e-4, atol=1e-5)
    if form in ("cdist", "broadcast_norm"):
        rows = np.arange(len(d))
        assert np.all(d[rows, rows] == 0) and d[2, 7] == 0 and d[7, 2] == 0


def test_other_readers_of_the_value_are_unchanged():
    """The stored copy feeds only the difference: the value's other readers and the
    gradient through both paths still match PyTorch."""
    def run(lib, compiled):
        w = lib.tensor(W, requires_grad=True)

        def step(x):
            e = lib.nn.functional.normalize(x @ w.t(), dim=1)
            out = lib.cdist(e, e).sum() + (e * 3).sum()
            out.backward()
            return out

        out = (gn.compile(step) if compiled else step)(lib.tensor(X))
        return out.detach().numpy(), w.grad.numpy()

    want = run(torch, False)
    got = run(gn, True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-5)
