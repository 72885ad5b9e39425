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


def _teacher_student(lib, loss_name, optimizer, steps=3):
    """A student and its deepcopied teacher: their outputs are equal, so PyTorch's loss and
    gradient are exactly 0 and the student does not move."""
    import copy

    lib.manual_seed(0)
    student = lib.nn.Sequential(lib.nn.Linear(8, 6), lib.nn.Tanh(), lib.nn.Linear(6, 4))
    with lib.no_grad():
        for i, p in enumerate(student.parameters()):
            p.copy_(lib.tensor(np.sin(np.arange(p.numel()) + i).reshape(p.shape)
                               .astype(np.float32) * 0.5))
    teacher = copy.deepcopy(student)
    opt = (lib.optim.Adam(student.parameters(), lr=1e-3) if optimizer == "adam"
           else lib.optim.SGD(student.parameters(), lr=0.1))
    F = lib.nn.functional
    heads = {"l1": lambda s, t: F.l1_loss(s * 0.3, t * 0.3),
             "mse_ln": lambda s, t: F.mse_loss(F.layer_norm(s, (4,)), F.layer_norm(t, (4,))),
             "sub": lambda s, t: (F.normalize(s, dim=1) - F.normalize(t, dim=1)).abs().sum()}

    def step(x):
        opt.zero_grad()
        with lib.no_grad():
            t = teacher(x)
        loss = heads[loss_name](student(x), t)
        loss.backward()
        opt.step()
        return loss

    return student, step


@pytest.mark.parametrize("loss_name, optimizer", [("l1", "sgd"), ("mse_ln", "adam"),
                                                  ("sub", "sgd")])
def test_student_equal_to_its_teacher_does_not_move(loss_name, optimizer):
    results = {}
    for name, lib, compiled in (("torch", torch, False), ("static", gn, True)):
        student, step = _teacher_student(lib, loss_name, optimizer)
        fn = gn.compile(step) if compiled else step
        losses = [float(fn(lib.tensor(X[:6]))) for _ in range(3)]
        results[name] = (losses, [p.detach().numpy().copy() for p in student.parameters()])
    assert results["static"][0] == results["torch"][0] == [0.0, 0.0, 0.0]
    for got, want in zip(results["static"][1], results["torch"][1]):
        np.testing.assert_array_equal(got, want)


def test_one_shot_prototypes_give_zero_distances():
    """Prototypes are the mean of one support embedding each: a query equal to its support
    example is at distance exactly 0 (and its gradient there is 0), as in PyTorch."""
    def run(lib, compiled):
        lib.manual_seed(0)
        enc = lib.nn.Linear(8, 4)
        with lib.no_grad():
            enc.weight.copy_(lib.tensor(W))
            enc.bias.zero_()
        opt = lib.optim.SGD(enc.parameters(), lr=0.1)
        F = lib.nn.functional

        def step(support, query, labels):
            opt.zero_grad()
            emb = F.normalize(enc(lib.cat([support, query])), dim=1)
            protos = emb[:4].view(4, 1, -1).mean(1)
            d = lib.cdist(emb[4:], protos)
            loss = F.cross_entropy(-d, labels)
            loss.backward()
            opt.step()
            return d

        fn = gn.compile(step) if compiled else step
        support = lib.tensor(X[:4])
        query = lib.tensor(X[[0, 5, 2]])
        labels = lib.tensor([0, 1, 2])
        d = [fn(support, query, labels).detach().numpy() for _ in range(3)]
        return d, enc.weight.detach().numpy()

    want_d, want_w = run(torch, False)
    got_d, got_w = run(gn, True)
    for g, w in zip(got_d, want_d):
        assert g[0, 0] == w[0, 0] == 0 and g[2, 2] == w[2, 2] == 0
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-5, atol=1e-6)
