"""Donated buffers paired with the outputs meant to overwrite them (runtime/donation_order.py).

jax.jit pairs a donated input with the first output of its shape and dtype. In the order a
training step returns its outputs, the MLP's new second-layer weight went into the momentum
buffer of the same shape (the weight itself is not donated) and the program ran 10-15% slower.
These tests read the pairs from the lowered program, and check that reordering the outputs
changes no value anywhere: the step against PyTorch, refine.py's chained trials against the
unreordered program."""

import re

import jax
import numpy as np
import pytest
from parity import torch

import graphnet
from graphnet import nn
from graphnet._x64 import x64
from graphnet.runtime import donation_order, refine
from graphnet.runtime.artifact_dumps import _artifact


def test_to_front_and_back_give_the_programs_own_order():
    fn = lambda *a: tuple(a)   # noqa: E731
    first = (3, 0)
    reordered = donation_order.to_front(fn, first)
    assert reordered(10, 11, 12, 13, 14) == (13, 10, 11, 12, 14)
    paired = donation_order.PairedJit(reordered, first)
    assert paired(10, 11, 12, 13, 14) == (10, 11, 12, 13, 14)
    assert [donation_order.moved(p, first) for p in range(5)] == [1, 2, 3, 0, 4]
    assert donation_order.front([5, 1, 2], {1: 4, 5: 0, 7: 9}) == (4, 0)
    assert donation_order.to_front(fn, ()) is fn


def _mlp_step():
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 3))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = graphnet.randn(8, 12)
    y = graphnet.tensor([0, 1, 2, 0, 1, 2, 0, 1])

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, x, y, step


def _steady_program():
    """(artifact, its input arrays) of the compiled step after the state-creating first call."""
    model, opt, x, y, step = _mlp_step()
    fast = graphnet.compile(step)
    for _ in range(3):
        fast(x, y)
    artifact = _artifact(fast)
    return artifact, artifact._gather((x, y))


def _aliases(lowered_text: str) -> dict:
    """input position -> output position, as the lowered program donates them."""
    # each argument's attributes run to the next argument (a program from the program store
    # also carries its inputs' shardings there, braces included)
    main = next(line for line in lowered_text.splitlines() if "func.func public @main" in line)
    pairs = re.findall(r"%arg(\d+): (?:(?!%arg).)*?tf\.aliasing_output = (\d+)", main)
    return {int(i): int(o) for i, o in pairs}


def test_each_donated_buffer_takes_its_own_new_value():
    artifact, arrays = _steady_program()
    # the second and third weights share a shape with their momentum buffers, which are
    # donated while (read twice) the weights are not
    assert artifact.donated and set(artifact.donated) != set(artifact.written)
    with x64():
        text = artifact.jitted.lower(*arrays).as_text()
    first = donation_order.front(artifact.donated, artifact.into)
    expected = {i: donation_order.moved(artifact.into[i], first) for i in artifact.donated}
    assert _aliases(text) == expected
    # and the old .grad buffers, with the recycling program, take the new .grads
    if artifact.recycling is not None:
        with x64():
            text = artifact.recycling.lower(*arrays, *artifact._old_grads()).as_text()
        donated = list(artifact.donated) + [len(arrays) + k for k in range(len(artifact.recycle))]
        first = donation_order.front(donated, artifact.into)
        effects = artifact.traced.effects
        for i, o in _aliases(text).items():
            natural = donation_order.order(first, len(effects))[o]
            assert artifact.into[i] == natural
            if i >= len(arrays):
                assert effects[natural][0] == "grad"


def test_a_reordered_step_trains_as_pytorch_does():
    model, opt, x, y, step = _mlp_step()
    tmodel = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 16), torch.nn.ReLU(),
                                 torch.nn.Linear(16, 3))
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.from_numpy(p.detach().numpy()))
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    tx, ty = torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())
    fast = graphnet.compile(step)
    for _ in range(5):
        loss = float(fast(x, y))
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
        tloss.backward()
        topt.step()
        assert loss == pytest.approx(tloss.item(), rel=1e-5)
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_refine_trials_feed_each_output_to_its_own_input():
    """refine.py times trials as chains of calls: with the outputs reordered, the state each
    call writes must still reach the input the next call reads it from."""
    artifact, arrays = _steady_program()
    with x64():
        natural = jax.jit(artifact.run_fn)(*arrays)
        donated = list(artifact.written)
        program = refine._donating(artifact.run_fn, donated, artifact.feedback)
        outs = program(*[jax.numpy.copy(a) for a in arrays])
    chain = refine._moved_feedback(artifact.feedback, donated)
    assert sorted(chain.values()) == sorted(artifact.feedback.values())
    for o, i in artifact.feedback.items():
        moved = next(m for m, j in chain.items() if j == i)
        np.testing.assert_array_equal(np.asarray(outs[moved]), np.asarray(natural[o]))
