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


@pytest.mark.parametrize("write", ["mul_", "copy_", "zero_", "nested"])
def test_detach_alias_write_raises_as_torch_in_both_modes(write):
    """detach() shares the version counter in PyTorch: a write through it to a tensor the
    backward saved raises there. graphnet read the new values instead, in both modes."""
    def program(T, x):
        y = (x * x).sum()
        d = x.detach()
        if write == "mul_":
            d.mul_(2)
        elif write == "copy_":
            d.copy_(T.ones(2))
        elif write == "zero_":
            d.zero_()
        else:
            d.detach()[0] = 5.0
        y.backward()
        return x.grad
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        program(torch, torch.tensor([1.0, 2.0], requires_grad=True))
    for run in (program, G.compile(program)):
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            run(G, G.tensor([1.0, 2.0], requires_grad=True))


def test_detach_alias_write_before_the_forward_is_read_by_it():
    """No error where nothing saved was written: the new values are simply the ones read."""
    def program(T, x):
        x.detach().mul_(2)
        (x * x).sum().backward()
        return x.grad
    want = program(torch, torch.tensor([1.0, 2.0], requires_grad=True)).tolist()
    for run in (program, G.compile(program)):
        assert run(G, G.tensor([1.0, 2.0], requires_grad=True)).tolist() == want


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
