"""Ops whose PyTorch backward reads their output (cdist, norms, expm1, exp2, logsumexp,
prod, amax/amin, std, cumprod, dist, pdist, hypot, logcumsumexp, pow with a tensor exponent)
refuse a backward after that output was written in place, as PyTorch does (the N-body
`r = cdist(x, x); r.fill_diagonal_(inf)`); graphnet gave the forward values' gradient,
eagerly and compiled. `x ** 2`, which saves no output, still allows the write."""

import pytest
import torch

import graphnet

OPS = {
    "cdist": lambda L, t: L.cdist(t.reshape(2, 2), t.reshape(2, 2)),
    "norm": lambda L, t: t.norm(dim=0, keepdim=True),
    "vector_norm": lambda L, t: L.linalg.vector_norm(t, dim=0, keepdim=True),
    "expm1": lambda L, t: t.expm1(),
    "exp2": lambda L, t: t.exp2(),
    "logsumexp": lambda L, t: t.logsumexp(0, keepdim=True),
    "prod": lambda L, t: t.prod(0, keepdim=True),
    "amax": lambda L, t: t.amax(0, keepdim=True),
    "std": lambda L, t: t.std(0, keepdim=True),
    "cumprod": lambda L, t: t.cumprod(0),
    "dist": lambda L, t: L.dist(t, t * 2).reshape(1),
    "hypot": lambda L, t: L.hypot(t, t + 1),
    "pow_tensor": lambda L, t: t.pow(t),
    "pow_number_base": lambda L, t: 2 ** t,
}


def _write_output(lib, fn, compiled=False):
    def step(a):
        y = fn(lib, a * 1)
        y.mul_(2)
        y.sum().backward()
        return y

    a = lib.tensor([0.5, 1.5, 2.0, 0.25], requires_grad=True)
    (graphnet.compile(step) if compiled else step)(a)
    return a.grad


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("lib", ["torch", "graphnet", "graphnet_compiled"])
def test_a_write_to_an_output_the_backward_reads_raises(name, lib):
    module = torch if lib == "torch" else graphnet
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _write_output(module, OPS[name], compiled=lib == "graphnet_compiled")


@pytest.mark.parametrize("compiled", [False, True])
def test_pow_with_a_number_exponent_allows_the_write(compiled):
    want = _write_output(torch, lambda L, t: t ** 2).tolist()
    assert _write_output(graphnet, lambda L, t: t ** 2, compiled).tolist() == want
