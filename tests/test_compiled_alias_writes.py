"""A write through a `.data` / `detach()` alias after a forward, before backward(): the
compiled backward reads what eager mode's reads (torch's new values for ops that save their
input, `x.data.mul_(2)`), and refuses where eager mode refuses (an op that saves its output,
`b = x.exp(); b.data.add_(1)`). Before, the compiled backward used the old values silently."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet as G


def _data_mul(lib, x):
    y = (x * x).sum()
    x.data.mul_(2)
    y.backward()
    return x.grad


def _data_add_sin(lib, x):
    y = x.sin().sum()
    x.data.add_(1)
    y.backward()
    return x.grad


def _data_pow(lib, x):
    y = (x ** 3).sum()
    x.data.mul_(-1)
    y.backward()
    return x.grad


@pytest.mark.parametrize("program", [_data_mul, _data_add_sin, _data_pow],
                         ids=lambda f: f.__name__)
def test_backward_reads_the_new_values_as_torch(program):
    expected = program(torch, torch.tensor([1.0, 2.0, 3.0], requires_grad=True))
    for compiled in (False, True):
        run = G.compile(lambda x: program(G, x)) if compiled else (lambda x: program(G, x))
        got = run(G.tensor([1.0, 2.0, 3.0], requires_grad=True))
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_detach_alias_write_agrees_between_the_modes():
    """torch raises here (detach() shares the version counter); graphnet's two modes read
    the new values alike, as for `.data`."""
    def program(x):
        y = (x * x).sum()
        x.detach().mul_(2)
        y.backward()
        return x.grad
    eager = program(G.tensor([1.0, 2.0], requires_grad=True))
    compiled = G.compile(program)(G.tensor([1.0, 2.0], requires_grad=True))
    assert compiled.tolist() == eager.tolist() == [4.0, 8.0]


def test_saved_output_written_through_data_raises_in_both_modes():
    def program(x):
        b = x.exp()
        y = b.sum()
        b.data.add_(1)
        y.backward()
        return x.grad
    for run in (program, G.compile(program)):
        with pytest.raises(RuntimeError, match="written through `.data` or `detach\\(\\)`"):
            run(G.tensor([1.0, 2.0], requires_grad=True))
