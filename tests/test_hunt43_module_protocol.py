"""Module code that uses Python beyond plain attributes: `model.compile()` of a module whose
class overrides `__call__` runs the override once (it ran again inside the compiled part:
`x * pre * pre`, plus 1 twice), a closure held as a class attribute (or in a class-level
dict) is guarded like one held on the instance (the traced slope stayed after the user
changed it), and `torch._assert` exists."""

import numpy as np
import pytest
import torch

import graphnet


def _pre_scaled(T):
    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(3, 2)
            self.pre = 2.0

        def __call__(self, x, *args, **kwargs):
            return super().__call__(x * self.pre, *args, **kwargs) + 1.0

        def forward(self, x):
            return self.lin(x)
    T.manual_seed(0)
    return Net()


def test_compile_of_a_module_with_a_call_override_runs_it_once():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    ref = _pre_scaled(torch)
    net = _pre_scaled(graphnet)
    net.load_state_dict({k: graphnet.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    want = ref(torch.tensor(x)).detach().numpy()
    net.compile()
    for _ in range(2):
        np.testing.assert_allclose(net(graphnet.tensor(x)).detach().numpy(), want, rtol=1e-6)


class _Config:
    slope = 0.1


def _make_act(config):
    return lambda x: graphnet.nn.functional.leaky_relu(x, config.slope)


@pytest.mark.parametrize("holder", ["staticmethod", "class dict"])
def test_a_closure_held_on_the_class_is_guarded(holder):
    config = _Config()

    class Net(graphnet.nn.Module):
        act = staticmethod(_make_act(config))
        ACTS = {"a": _make_act(config)}

        def forward(self, x):
            return (self.act if holder == "staticmethod" else self.ACTS["a"])(x)
    fast = graphnet.compile(Net())
    x = graphnet.tensor([-2.0, 1.0])
    assert fast(x).tolist() == pytest.approx([-0.2, 1.0])
    config.slope = 0.5
    assert fast(x).tolist() == pytest.approx([-1.0, 1.0])


def test_torch_assert():
    for T in (torch, graphnet):
        T._assert(3 == 3, "fine")
        with pytest.raises(AssertionError, match="Input height"):
            T._assert(32 == 31, "Input height (32) doesn't match model (31).")
