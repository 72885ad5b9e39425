"""`st.data = other` on a non-leaf inside a compiled function keeps `st`'s own gradient, as
eagerly and in PyTorch (a VQ-VAE's straight-through step `st = z * 1; st.data = q.data`).
Traced, `st` took `other`'s graph value: the gradient went to the codebook instead of the
encoder output, or through a detached value, or the step failed. Found by the VQ-VAE hunt."""

import pytest
import torch

import graphnet

OTHERS = {
    "codebook_values": lambda L, z, e: (e * 1).data,
    "detached_product": lambda L, z, e: (z * 10).detach(),
    "fresh_tensor": lambda L, z, e: L.tensor([10.0, 20.0, 30.0]),
    "clone": lambda L, z, e: (e * 1).data.clone(),
}


def _step(L, other):
    z = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
    e = L.tensor([10.0, 20.0, 30.0], requires_grad=True)
    st = z * 1
    st.data = other(L, z, e)
    loss = (st * L.tensor([1.0, 2.0, 3.0])).sum()
    loss.backward()
    return loss.detach(), z.grad, e.grad, st.requires_grad


def _plain(results):
    return [r if isinstance(r, bool) or r is None else r.tolist() for r in results]


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", sorted(OTHERS))
def test_gradient_goes_where_torch_sends_it(name, compiled):
    want = _plain(_step(torch, OTHERS[name]))
    fn = (lambda: _step(graphnet, OTHERS[name]))
    got = _plain(graphnet.compile(fn)() if compiled else fn())
    assert got == want
