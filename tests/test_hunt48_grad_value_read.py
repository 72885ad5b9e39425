"""Reading the value of a gradient inside a compiled function (`w.grad.sum().item()` of a
tensor made in the function): the constant folder tried to evaluate the grad node, which has
no kernel of its own, and raised an internal NotImplementedError. It is graphnet's TraceError
now, with the ways out; read outside the compiled function, the value is PyTorch's."""

import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError


def _step(lib):
    w = lib.ones(5, 2, requires_grad=True)
    lib.nn.functional.embedding(lib.tensor([1, 1, 3]), w).sum().backward()
    return w.grad


def test_reading_a_traced_gradient_value_is_a_trace_error():
    with pytest.raises(TraceError, match="needs the value"):
        gn.compile(lambda: _step(gn).sum().item())()


def test_the_gradient_returned_matches_torch():
    assert gn.compile(lambda: _step(gn))().sum().item() == _step(torch).sum().item() == 6.0
