"""A tensor made from data inside a compiled function (`tensor(...)`, `as_tensor(list)`,
`Tensor([...])`, `from_numpy`, `eye`, `linspace`) and then changed in place starts from its
data on every call, as eagerly. It was the program's captured state, so the in-place writes
of one call carried into the next: the soft decision tree's node penalty
`pen = tensor(0.0); pen -= ...` grew 1.49, 2.99, 4.48 over three calls, and its gradient
with it."""

import numpy as np
import pytest
import torch

import graphnet


def _penalty_step(lib):
    w = lib.nn.Parameter(lib.tensor([0.3, 0.6]))

    def step():
        w.grad = None
        pen = lib.tensor(0.0)
        pen -= 0.5 * (w.log() + (1 - w).log()).sum()
        coeff = lib.tensor([0.5, 0.25])
        coeff *= 2
        ((coeff * w).sum() + pen).backward()
        return pen.clone(), w.grad.clone()

    return step


def test_a_penalty_built_in_place_is_the_same_on_every_call():
    want = [(p.item(), g.tolist()) for p, g in (_penalty_step(torch)() for _ in range(3))]
    step = graphnet.compile(_penalty_step(graphnet))
    got = [(p.item(), g.tolist()) for p, g in (step() for _ in range(3))]
    for (gp, gg), (wp, wg) in zip(got, want):
        assert gp == pytest.approx(wp, rel=1e-6)
        np.testing.assert_allclose(gg, wg, rtol=1e-6)


MAKERS = {
    "tensor": lambda L: L.tensor([1.0, 2.0]),
    "as_tensor": lambda L: L.as_tensor([1.0, 2.0]),
    "Tensor": lambda L: L.Tensor([1.0, 2.0]),
    "FloatTensor": lambda L: L.FloatTensor([1.0, 2.0]),
    "from_numpy": lambda L: L.from_numpy(np.array([1.0, 2.0], np.float32)),
    "linspace": lambda L: L.linspace(1.0, 2.0, 2),
    "eye_row": lambda L: L.eye(2)[0] + L.tensor([0.0, 2.0]),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_data_tensors_written_in_place_start_fresh_each_call(name):
    make = MAKERS[name]

    def f(x):
        t = make(graphnet)
        t += x
        t[0] = t[0] * 2
        return t * 1

    compiled = graphnet.compile(f)
    x = graphnet.tensor([1.0, 1.0])
    results = [compiled(x).tolist() for _ in range(3)]
    assert results[0] == results[1] == results[2] == f(x).tolist()
