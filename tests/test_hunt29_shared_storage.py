"""Parameters tied to a flat vector by vector_to_parameters (each a `.data` alias of a slice of
`vec`, graphnet's form of PyTorch's shared storage), found by the twenty-ninth session's hunt:

- an optimizer step stored a parameter's new values in the parameter alone, so the next
  in-place write to any sibling parameter (a weight clamp) wrote `vec`'s stale slices back
  into every parameter: the step was silently undone;
- `p.data = other` afterwards left `p` tied to `vec`, so a later write to a sibling gave `p`
  its old slice back."""

import numpy as np
import pytest
from parity import torch

import graphnet


def _clamped_after_steps(lib, compiled: bool):
    m = lib.nn.Linear(2, 1)
    lib.nn.utils.vector_to_parameters(lib.tensor([0.5, -0.5, 0.1]), m.parameters())
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.5)

    def step(x):
        opt.zero_grad()
        m(x).sum().backward()
        opt.step()
    run = graphnet.compile(step) if compiled else step
    for _ in range(3):
        run(lib.tensor([[1.0, 2.0]]))
        with lib.no_grad():
            m.weight.clamp_(-0.6, 10)   # changes the weight, never the bias
    return [p.detach().numpy().copy() for p in m.parameters()]


@pytest.mark.parametrize("compiled", [False, True])
def test_an_optimizer_step_reaches_the_shared_vector(compiled):
    want = _clamped_after_steps(torch, False)
    got = _clamped_after_steps(graphnet, compiled)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _tied(lib):
    """A Linear(2, 2) whose parameters vector_to_parameters tied to arange(6): (model, vec)."""
    m = lib.nn.Linear(2, 2)
    vec = lib.arange(6.0)
    lib.nn.utils.vector_to_parameters(vec, m.parameters())
    return m, vec


def test_load_state_dict_reaches_the_shared_vector():
    results = []
    for lib in (torch, graphnet):
        m, vec = _tied(lib)
        m.load_state_dict({"weight": lib.ones(2, 2), "bias": lib.full((2,), 7.0)})
        with lib.no_grad():
            m.weight.mul_(2)
        results.append((m.bias.tolist(), m.weight.tolist(), vec.tolist()))
    assert results[1] == results[0]


def test_new_data_leaves_the_shared_vector():
    results = []
    for lib in (torch, graphnet):
        m, vec = _tied(lib)
        m.bias.data = lib.ones(2)
        with lib.no_grad():
            m.weight.mul_(10)
        vec.add_(100)
        results.append((m.bias.tolist(), m.weight.tolist()))
    assert results[1] == results[0] == ([1.0, 1.0], [[100.0, 110.0], [120.0, 130.0]])
