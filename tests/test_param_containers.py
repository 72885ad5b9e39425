"""nn.ParameterList and nn.ParameterDict against torch 2.13: registration names, reprs
(identical up to the `graphnet.`/`torch.` prefix), the list/dict API, and gradients through
them in dynamic and static mode."""

import numpy as np
import pytest

import graphnet
from graphnet import nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def same_repr(g, t):
    assert repr(g) == repr(t).replace("torch.", "graphnet."), f"{g!r}\n!=\n{t!r}"


def build_list(T, mod):
    plist = mod.ParameterList([mod.Parameter(T.zeros(3, 3)),
                               mod.Parameter(T.zeros(4, dtype=T.float64))])
    plist.append(T.ones(2))  # a plain tensor becomes a Parameter
    plist.append(5)          # any other object is kept as is
    return plist


def build_dict(T, mod):
    pdict = mod.ParameterDict({"linear1": mod.Parameter(T.zeros(4, 4)),
                               "linear2": mod.Parameter(T.zeros(4, 1))})
    pdict.update({"linear3": mod.Parameter(T.zeros(4, 2))})
    return pdict


def test_parameter_list_repr_names_and_types():
    g, t = build_list(graphnet, nn), build_list(torch, tnn)
    same_repr(g, t)
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [type(p).__name__ for p in g] == [type(p).__name__ for p in t]
    assert g[3] == 5 and len(g) == 4
    same_repr(g[1:], t[1:])
    same_repr(nn.ParameterList(), tnn.ParameterList())
    one = nn.ParameterList([graphnet.zeros(2, 3)])
    same_repr(one, tnn.ParameterList([torch.zeros(2, 3)]))  # PyTorch's one-line form


def test_parameter_dict_repr_order_and_api():
    g, t = build_dict(graphnet, nn), build_dict(torch, tnn)
    same_repr(g, t)
    assert list(g.keys()) == list(t.keys()) == ["linear1", "linear2", "linear3"]
    assert "linear2" in g and len(g) == 3 and g.get("nope") is None
    # like PyTorch, a plain dict is added in sorted key order
    g2 = nn.ParameterDict({"b": nn.Parameter(graphnet.zeros(1)),
                           "a": nn.Parameter(graphnet.zeros(1))})
    t2 = tnn.ParameterDict({"b": tnn.Parameter(torch.zeros(1)),
                            "a": tnn.Parameter(torch.zeros(1))})
    assert list(g2.keys()) == list(t2.keys())
    assert tuple(g.pop("linear1").shape) == (4, 4) and list(g.keys()) == ["linear2", "linear3"]
    g["x"] = graphnet.ones(2)
    assert isinstance(g["x"], nn.Parameter)
    del g["x"]
    assert "x" not in g and [n for n, _ in g.named_parameters()] == ["linear2", "linear3"]
    with pytest.raises(TypeError, match="not a string"):
        g[0] = graphnet.ones(1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.chain = nn.ParameterList([nn.Parameter(graphnet.from_numpy(
            rng.standard_normal((4, 4)).astype(np.float32))) for _ in range(2)])
        self.heads = nn.ParameterDict({"out": nn.Parameter(graphnet.from_numpy(
            rng.standard_normal((4, 2)).astype(np.float32)))})

    def forward(self, x):
        for w in self.chain:
            x = graphnet.mm(x, w)
        return graphnet.mm(x, self.heads["out"])


def test_state_dict_keys_and_gradients_in_both_modes():
    net = Net()
    assert list(net.state_dict()) == ["chain.0", "chain.1", "heads.out"]
    x = graphnet.ones(3, 4)

    def loss(x):
        out = net(x).sum()
        out.backward()
        return out

    results = []
    for run in (loss, graphnet.compile(loss)):
        net.zero_grad()
        value = run(x)
        results.append((value.item(), [np.asarray(p.grad) for p in net.parameters()]))
    # the same numbers from torch
    tparams = [torch.from_numpy(p.detach().numpy().copy()).requires_grad_() for p in
               net.parameters()]
    tout = (torch.ones(3, 4) @ tparams[0] @ tparams[1] @ tparams[2]).sum()
    tout.backward()
    for value, grads in results:
        np.testing.assert_allclose(value, tout.item(), rtol=1e-5)
        for g, tp in zip(grads, tparams, strict=True):
            np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_load_state_dict_and_optimizer_see_the_entries():
    net = Net()
    state = {k: graphnet.zeros(*v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    assert all(float(p.abs().sum()) == 0 for p in net.parameters())
    opt = graphnet.optim.SGD(net.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 3


def test_containers_are_not_callable():
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        nn.ParameterList()(1)
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        nn.ParameterDict()(1)
