"""`with no_grad() as x` binds None, as in PyTorch; graphnet's grad-mode managers returned
themselves, so code testing `x is None` or passing `x` on took another branch."""

import pytest
import torch

import graphnet

MANAGERS = {
    "no_grad": lambda L: L.no_grad(),
    "enable_grad": lambda L: L.enable_grad(),
    "set_grad_enabled": lambda L: L.set_grad_enabled(False),
    "inference_mode": lambda L: L.inference_mode(),
}


@pytest.mark.parametrize("name", sorted(MANAGERS))
def test_entering_binds_what_torch_binds(name):
    with MANAGERS[name](torch) as want:
        pass
    with MANAGERS[name](graphnet) as got:
        pass
    assert got is want is None
    assert graphnet.is_grad_enabled()
