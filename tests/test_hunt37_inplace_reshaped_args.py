"""An argument whose shape the compiled code changes in place (`t.unsqueeze_(-1)`, as the
name-generation tutorial does to its target tensor) is written back with its new shape and
values when the program carries a label or index check. The check's guard selected between
the old value and the new one and broadcast them: `arange(4)` came back as a (4, 4) tensor
of repeated rows, and a transpose_ of a 2x3 argument raised a broadcasting ValueError. A
failed check writes nothing back. NLP tutorial hunt."""

import numpy as np
import pytest
import torch

import graphnet


def _unsqueeze_then_label(L):
    def step(o, t):
        t.unsqueeze_(-1)
        return L.nn.functional.nll_loss(o, t[1])
    return step


def _transpose_then_label(L):
    def step(o, t):
        t.t_()
        return L.nn.functional.nll_loss(o, t[0])
    return step


@pytest.mark.parametrize("make,values,batch", [(_unsqueeze_then_label, [0, 1, 2, 3], 1),
                                               (_transpose_then_label, [[0, 1, 2], [3, 4, 5]], 2)])
def test_an_argument_reshaped_in_place_comes_back_reshaped(make, values, batch):
    want_t = torch.tensor(values)
    want_loss = make(torch)(torch.zeros(batch, 6), want_t)
    for checks in (True, False):
        t = graphnet.tensor(values)
        loss = graphnet.compile(make(graphnet), checks=checks)(graphnet.zeros(batch, 6), t)
        assert tuple(t.shape) == tuple(want_t.shape)
        assert t.tolist() == want_t.tolist()
        np.testing.assert_allclose(loss.item(), want_loss.item())


def test_a_failed_check_writes_back_nothing():
    step = graphnet.compile(_unsqueeze_then_label(graphnet))
    step(graphnet.zeros(1, 6), graphnet.arange(4))       # compiled for these shapes
    t = graphnet.tensor([0, 9, 2, 3])
    with pytest.raises(IndexError, match="out of bounds"):
        step(graphnet.zeros(1, 6), t)
    assert tuple(t.shape) == (4,) and t.tolist() == [0, 9, 2, 3]
