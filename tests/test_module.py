"""nn.Module against PyTorch: registration rules, traversal, reprs, state_dict, hooks."""

from collections import OrderedDict

import numpy as np
import pytest
from parity import np_of, torch

import graphnet
from graphnet import nn


def build(T, n):
    """The same module tree in torch (n=torch.nn) or graphnet (n=graphnet.nn)."""

    class Net(n.Module):
        def __init__(self):
            super().__init__()
            self.features = n.Sequential(OrderedDict([("conv_like", n.Linear(4, 8)),
                                                      ("act", n.ReLU(inplace=True))]))
            self.blocks = n.ModuleList([n.Linear(8, 8) for _ in range(3)])
            self.heads = n.ModuleDict({"cls": n.Linear(8, 2), "reg": n.Linear(8, 1, bias=False)})
            self.scale = n.Parameter(T.ones(1))
            self.register_buffer("steps", T.zeros(1))
            self.register_buffer("scratch", T.zeros(1), persistent=False)
            self.plain_tensor = T.ones(2)  # not registered
            self.plain_list = [n.Linear(2, 2)]  # not registered

        def forward(self, x):
            x = self.features(x)
            for block in self.blocks:
                x = block(x)
            return self.heads["cls"](x) * self.scale

    return Net()


def test_registration_traversal_and_state_dict_keys_match_torch():
    t, g = build(torch, torch.nn), build(graphnet, nn)
    assert [k for k, _ in g.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in g.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert [k for k, _ in g.named_modules()] == [k for k, _ in t.named_modules()]
    assert [k for k, _ in g.named_children()] == [k for k, _ in t.named_children()]
    assert list(g.state_dict()) == list(t.state_dict())
    assert [k for k, _ in g.named_parameters(prefix="net", recurse=False)] == \
        [k for k, _ in t.named_parameters(prefix="net", recurse=False)]
    assert list(g._modules) == list(t._modules)
    assert "plain_tensor" not in dict(g.named_parameters())
    assert repr(g) == repr(t)


def test_reprs_match_torch_character_for_character():
    for make in [
        lambda n: n.Sequential(n.Linear(784, 256), n.ReLU(), n.Linear(256, 10)),
        lambda n: n.ModuleList([n.Linear(10, 10) for _ in range(20)]),
        lambda n: n.Sequential(n.Linear(2, 2), n.Sequential(n.Tanh(), n.Sigmoid()), n.Flatten()),
        lambda n: n.ModuleDict({"a": n.LeakyReLU(0.2), "b": n.ELU(), "c": n.GELU(), "d": n.Softmax(dim=1)}),
        lambda n: n.Sequential(n.Dropout(0.3), n.Identity(), n.Unflatten(1, (2, 5)), n.Hardtanh(),
                               n.Softplus(), n.PReLU(), n.ReLU6(), n.SiLU(), n.LogSoftmax(dim=1)),
        lambda n: n.CrossEntropyLoss(),
        lambda n: n.Sequential(),
    ]:
        assert repr(make(nn)) == repr(make(torch.nn))


def test_sequential_manipulation_like_the_seed():
    for n in (torch.nn, nn):
        m = n.Sequential(n.Linear(2, 3), n.ReLU(), n.Linear(3, 1))
        m[1] = n.Sigmoid()
        m.append(n.Tanh())
        del m[2]
        m.insert(0, n.Identity())
        sliced = m[1:3]
        out = (repr(m), repr(sliced), len(m), list(m._modules))
        if n is torch.nn:
            expected = out
    assert out == expected


def test_moduledict_and_modulelist_api():
    d = nn.ModuleDict([("a", nn.ReLU()), ("b", nn.Tanh())])
    d.update({"c": nn.Sigmoid()})
    assert list(d.keys()) == ["a", "b", "c"] and isinstance(d.pop("b"), nn.Tanh)
    assert "b" not in d and len(d) == 2
    d.clear()
    assert len(d) == 0
    ml = nn.ModuleList([nn.ReLU()])
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    ml.insert(1, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["ReLU", "Identity", "Tanh", "Sigmoid"]


def test_load_state_dict_strict_errors_and_nonstrict_result():
    m = nn.Linear(4, 2)
    sd = m.state_dict()
    sd["extra"] = graphnet.zeros(1)
    del sd["bias"]
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(sd)
    assert 'Missing key(s) in state_dict: "bias"' in str(err.value)
    assert 'Unexpected key(s) in state_dict: "extra"' in str(err.value)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with "
                                           r"shape graphnet.Size\(\[3, 4\]\)"):
        m.load_state_dict({"weight": graphnet.zeros(3, 4), "bias": graphnet.zeros(2)})


def test_load_state_dict_copies_values():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(np_of(a.weight), np_of(b.weight))
    assert b.weight is not a.weight


def test_assigning_a_plain_tensor_to_a_parameter_is_refused():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = graphnet.zeros(2, 2)


def test_hooks_run_and_handles_remove_them():
    m = nn.Linear(2, 2)
    calls = []
    pre = m.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
    post = m.register_forward_hook(lambda mod, args, out: out * 0)
    assert m(graphnet.ones(1, 2)).tolist() == [[0.0, 0.0]] and calls == ["pre"]
    pre.remove()
    post.remove()
    m(graphnet.ones(1, 2))
    assert calls == ["pre"]


def test_train_eval_flags_apply_and_zero_grad():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout()))
    m.eval()
    assert all(not x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m(graphnet.ones(1, 2)).sum().backward()
    assert m[0].weight.grad is not None
    m.zero_grad()
    assert m[0].weight.grad is None
    visited = []
    m.apply(lambda mod: visited.append(type(mod).__name__))
    assert visited == ["Linear", "Dropout", "Sequential", "Sequential"]


def test_default_linear_init_distribution_matches_pytorch():
    graphnet.manual_seed(0)
    w = np_of(nn.Linear(400, 300).weight)
    bound = 1 / np.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound


def test_shared_parameters_seed_example():
    # seed 003: Sequential(linear, linear) with weight 3, input 1 -> y = 9, grad = 6
    linear = nn.Linear(1, 1, bias=False)
    nn.init.constant_(linear.weight, val=3)
    net = nn.Sequential(linear, linear)
    assert len(list(net.parameters())) == 1
    x = graphnet.ones(1, 1)
    y = net(x).sum()
    y.backward()
    assert y.item() == 9.0 and linear.weight.grad.item() == 6.0
