"""A tensor the compiled code makes from data (`tensor(0.0)`, `from_numpy`, `eye`) is a new
tensor on every eager run. Traced, it held a concrete array, was lifted as a graph input like
a captured buffer and fed from itself, so an in-place write carried into the next call:
`pen = tensor(0.0); pen -= 1.5` gave -1.5, -3.0, -4.5 where eager code gives -1.5 each time
(compiler/made_data.py)."""

import numpy as np
import pytest
import torch

import graphnet
import graphnet.nn as nn

MAKERS = {
    "tensor": lambda L: L.tensor([0.0, 1.0]),
    "Tensor": lambda L: L.Tensor([0.0, 1.0]),
    "as_tensor": lambda L: L.as_tensor([0.0, 1.0]),
    "from_numpy": lambda L: L.from_numpy(np.array([0.0, 1.0], np.float32)),
    "eye_row": lambda L: L.eye(2)[1],
    "linspace": lambda L: L.linspace(0.0, 1.0, 2),
    "logspace": lambda L: L.logspace(0.0, 1.0, 2),
    "tensor_of_tensor": lambda L: L.tensor(L.tensor([0.0, 1.0])),
    "zeros": lambda L: L.zeros(2),
}


def _model(L):
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2)
    if L is torch:
        return ref
    m = graphnet.nn.Linear(3, 2)
    m.load_state_dict({k: graphnet.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    return m


def _x(L):
    return L.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))


def _three_calls(fn, x):
    return [[v.detach().numpy().copy() for v in (r if isinstance(r, tuple) else (r,))]
            for r in (fn(x) for _ in range(3))]


def _assert_same(got, want):
    for g_call, w_call in zip(got, want, strict=True):
        for g, w in zip(g_call, w_call, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("maker", sorted(MAKERS))
def test_an_in_place_write_does_not_reach_the_next_call(maker):
    make = MAKERS[maker]

    def step(L, m, x):
        pen = make(L)
        pen -= m(x).sum() + 1.5
        return pen

    want = _three_calls(lambda x, m=_model(torch): step(torch, m, x), _x(torch))
    m = _model(graphnet)
    eager = _three_calls(lambda x: step(graphnet, m, x), _x(graphnet))
    compiled = _three_calls(graphnet.compile(lambda x: step(graphnet, m, x)), _x(graphnet))
    _assert_same(eager, want)
    _assert_same(compiled, want)


def _returned_with_a_view(L, m, x):
    t = L.tensor([1.0, 1.0])
    t.mul_(m(x).sum())
    return t, t[0]


def _written_by_index(L, m, x):
    u = L.tensor([1.0, 2.0])
    u[0] = m(x).sum()
    u.add_(1)
    return u


def _through_a_detached_alias(L, m, x):
    t = L.tensor([1.0, 2.0])
    d = t.detach()
    d.add_(m(x).sum())
    return t.clone(), d


def _a_leaf_made_in_the_step(L, m, x):
    w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = m(x * w).pow(2).sum()
    loss.backward()
    w.grad.mul_(2)
    return w.grad.clone(), loss


def _smoothed_targets(L, m, x):
    target = L.tensor([[1.0, 0.0]] * 4)
    target.mul_(0.9).add_(0.05)
    return L.nn.functional.mse_loss(m(x), target)


PROGRAMS = {f.__name__.strip("_"): f for f in (
    _returned_with_a_view, _written_by_index, _through_a_detached_alias,
    _a_leaf_made_in_the_step, _smoothed_targets)}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_programs_writing_tensors_they_made_match_torch_on_every_call(name):
    program = PROGRAMS[name]
    want = _three_calls(lambda x, m=_model(torch): program(torch, m, x), _x(torch))
    m = _model(graphnet)
    compiled = _three_calls(graphnet.compile(lambda x: program(graphnet, m, x)), _x(graphnet))
    _assert_same(compiled, want)


def test_a_training_step_with_written_targets_matches_torch():
    def train(L, steps):
        m = _model(L)
        opt = L.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

        def step(x):
            opt.zero_grad()
            loss = _smoothed_targets(L, m, x)
            loss.backward()
            opt.step()
            return loss

        step = graphnet.compile(step) if L is graphnet else step
        x = _x(L)
        return [step(x).item() for _ in range(steps)], m.weight.detach().numpy()

    losses, weight = train(graphnet, 4)
    want_losses, want_weight = train(torch, 4)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(weight, want_weight, rtol=1e-5, atol=1e-6)


def test_a_tensor_the_code_keeps_holds_its_own_call_s_values():
    m, kept = _model(graphnet), []

    @graphnet.compile
    def step(x):
        total = graphnet.tensor([0.0])
        total += m(x).sum()
        kept.append(total)
        return total * 1

    results = [step(_x(graphnet)).item() for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert all(t.item() == results[0] for t in kept)


class _Running(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = _model(graphnet)

    def forward(self, x):
        self.total = graphnet.tensor(0.0)
        self.total += self.lin(x).sum()
        return self.total * 2


def test_a_tensor_made_and_stored_on_the_module_each_call():
    eager, compiled = _Running(), graphnet.compile(_Running())
    for _ in range(3):
        want = eager(_x(graphnet)).item()
        assert compiled(_x(graphnet)).item() == pytest.approx(want, rel=1e-6)
        assert compiled.total.item() == pytest.approx(eager.total.item(), rel=1e-6)


def test_a_captured_tensor_made_before_the_call_still_keeps_its_writes():
    counter = graphnet.tensor(0.0)   # made outside: one tensor, written on every call

    @graphnet.compile
    def step(x):
        counter.add_(x.sum())
        return counter * 1

    assert [step(graphnet.ones(2)).item() for _ in range(3)] == [2.0, 4.0, 6.0]
    assert counter.item() == 6.0
