"""The hook-based spectral_norm and weight_norm of a discriminator frozen with
requires_grad_(False), in compiled steps (thirty-second session's generative-model hunt: the
weight the hook wrote in place kept an earlier forward's history, and the generator's
backward reached it: a TraceError, or "backward through the graph a second time")."""

import pytest
import torch

import graphnet as gn

_NORMS = [lambda lib: lib.nn.utils.spectral_norm, lambda lib: lib.nn.utils.weight_norm]


def _discriminator(lib, wrap):
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.arange(6.).reshape(2, 3) / 5)
        lin.bias.zero_()
    d = wrap(lib)(lin)
    if hasattr(d, "weight_u"):
        d.weight_u.copy_(lib.tensor([0.6, 0.8]))
        d.weight_v.copy_(lib.tensor([1., 0, 0]))
    return d


def _frozen_between_calls(lib, compile_, wrap):
    d, w = _discriminator(lib, wrap), lib.nn.Parameter(lib.ones(3))

    def step(x):
        d(x * w).sum().backward()
        return w.grad.clone()

    step = compile_(step)
    out = step(lib.ones(4, 3)).tolist()
    d.requires_grad_(False)
    return out + step(lib.ones(4, 3)).tolist()


def _frozen_inside_the_step(lib, compile_, wrap):
    d, w = _discriminator(lib, wrap), lib.nn.Parameter(lib.ones(3))

    def step(x):
        d(x).sum().backward()   # the discriminator's step
        d.requires_grad_(False)
        d(x * w).sum().backward()   # the generator's
        d.requires_grad_(True)
        return w.grad.clone()

    return compile_(step)(lib.ones(4, 3)).tolist()


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
@pytest.mark.parametrize("wrap", _NORMS)
@pytest.mark.parametrize("program", [_frozen_between_calls, _frozen_inside_the_step])
def test_a_frozen_hook_normed_discriminator_in_compiled_steps(compile_, wrap, program):
    expected = program(torch, lambda f: f, wrap)
    assert program(gn, compile_, wrap) == pytest.approx(expected, rel=1e-5)
