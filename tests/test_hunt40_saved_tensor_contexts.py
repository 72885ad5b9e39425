"""`autograd.graph.save_on_cpu` runs its block with PyTorch's values and gradients, in both
modes; `disable_saved_tensors_hooks` makes the saved-tensor contexts raise its message;
`saved_tensors_hooks` with user functions is refused with a reason (it was missing)."""
import numpy as np
import pytest
import torch

import graphnet as G


def _step(lib, model, x):
    with lib.autograd.graph.save_on_cpu(pin_memory=False):
        loss = model(x).pow(2).sum()
    loss.backward()
    return loss.detach()


@pytest.mark.parametrize("compiled", [False, True])
def test_save_on_cpu_keeps_values_and_gradients(compiled):
    w = np.arange(8, dtype=np.float32).reshape(2, 4) / 8
    t_model, g_model = torch.nn.Linear(4, 2), G.nn.Linear(4, 2)
    with torch.no_grad():
        t_model.weight.copy_(torch.tensor(w))
        t_model.bias.zero_()
    with G.no_grad():
        g_model.weight.copy_(G.tensor(w))
        g_model.bias.zero_()
    want = _step(torch, t_model, torch.ones(3, 4))
    run = G.compile(lambda x: _step(G, g_model, x)) if compiled else \
        (lambda x: _step(G, g_model, x))
    got = run(G.ones(3, 4))
    assert float(got) == pytest.approx(float(want), rel=1e-6)
    np.testing.assert_allclose(g_model.weight.grad.numpy(), t_model.weight.grad.numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("lib", [torch, G], ids=["torch", "graphnet"])
def test_disable_saved_tensors_hooks_raises_its_message(lib):
    graph = lib.autograd.graph
    with graph.disable_saved_tensors_hooks("no offloading here"):
        with pytest.raises(RuntimeError, match="no offloading here"):
            with graph.save_on_cpu():
                pass
    with graph.save_on_cpu():     # allowed again after the block
        pass


def test_user_pack_hooks_are_refused_with_a_reason():
    with pytest.raises(NotImplementedError, match="saved_tensors_hooks .* not supported"):
        with G.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass


@pytest.mark.parametrize("where,name", [("autograd", "forward_ad"), ("func", "linearize")])
def test_forward_mode_names_exist(where, name):
    # once refused with a reason; now built on the tape (tests/test_hunt42_forward_ad.py)
    assert hasattr(getattr(torch, where), name) and hasattr(getattr(G, where), name)
