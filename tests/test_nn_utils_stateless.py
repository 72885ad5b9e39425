"""nn.utils.stateless.functional_call against torch.func.functional_call: replaced
parameters and buffers, gradients to the given tensors, eagerly and compiled; the module is
unchanged afterwards; tied weights and strict mode."""

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, to_gn, torch

import graphnet
from graphnet import nn
from graphnet.nn.utils.stateless import functional_call

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def models():
    make = lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4),  # noqa
                                         lib.nn.Tanh(), lib.nn.Linear(4, 2))
    theirs, ours = make(torch), make(graphnet)
    copy_torch_params(theirs, ours)
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_functional_call_matches_torch(compiled):
    ours, theirs = models()
    values = {"0.weight": arr(4, 3), "3.bias": arr(2), "1.running_mean": arr(4)}
    x = arr(5, 3)
    t_new = {k: torch.tensor(v, requires_grad=k != "1.running_mean") for k, v in values.items()}
    expected = torch.func.functional_call(theirs, t_new, (torch.tensor(x),))
    expected.sin().sum().backward()
    g_new = {k: to_gn(v, requires_grad=k != "1.running_mean") for k, v in values.items()}
    before = {k: np.asarray(v.tolist()) for k, v in ours.state_dict().items()}

    def run(a, w, b, m):
        out = functional_call(ours, {"0.weight": w, "3.bias": b, "1.running_mean": m}, a)
        out.sin().sum().backward()
        return out

    fn = graphnet.compile(run) if compiled else run
    got = fn(to_gn(x), g_new["0.weight"], g_new["3.bias"], g_new["1.running_mean"])
    assert_close(got, expected)
    for key in ("0.weight", "3.bias"):
        assert_close(g_new[key].grad, t_new[key].grad, what=key)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(np.asarray(value.tolist()), before[key], err_msg=key)
    assert ours[0].weight.grad is None   # the module's own weight was not used


def test_tied_weights_and_strict():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    model = Tied()
    w = graphnet.ones(2, 2)
    out = functional_call(model, {"a.weight": w}, graphnet.ones(1, 2))
    assert out.tolist() == [[4.0, 4.0]]
    out = functional_call(model, {"a.weight": w}, graphnet.ones(1, 2), tie_weights=False)
    assert out.tolist() != [[4.0, 4.0]]
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(nn.Linear(2, 2), {"weight": w}, graphnet.ones(1, 2), strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(nn.Linear(2, 2), ({"weight": w}, {"weight": w}), graphnet.ones(1, 2))
