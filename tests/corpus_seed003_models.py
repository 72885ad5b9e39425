"""Seed corpus, seed 003 (Dive-into-DL notes) §3-4: LinearNet, FlattenLayer, MLP with
dropout, MySequential/add_module, named_parameters, ParameterList/ParameterDict, shared
parameters, state_dict and save/load."""

import os
import tempfile
from collections import OrderedDict

from corpus_common import arr, det_init, program


@program("003 §3-3/3-6 LinearNet, FlattenLayer, init")
def linear_net_and_init(T, nn, F):
    init = nn.init

    class LinearNet(nn.Module):
        def __init__(self, n_feature):
            super().__init__()
            self.linear = nn.Linear(n_feature, 1)

        def forward(self, x):
            return self.linear(x)

    class FlattenLayer(nn.Module):
        def forward(self, x):
            return x.view(x.shape[0], -1)

    lin = det_init(T, LinearNet(5))
    net = nn.Sequential(OrderedDict([("flatten", FlattenLayer()),
                                     ("linear", nn.Linear(12, 3))]))
    det_init(T, net)
    out = {"lin": lin(arr(T, 4, 5)), "net": net, "net_y": net(arr(T, 2, 3, 4))}
    for params in net.parameters():
        init.normal_(params, mean=0, std=0.01)
    out["normal_small"] = all(bool(p.abs().max() < 0.1) for p in net.parameters())
    init.constant_(net.linear.bias, val=0)
    out["bias_zero"] = net.linear.bias
    return out


@program("003 §3-8/3-11 MLP with dropout, l2 penalty")
def mlp_with_dropout(T, nn, F):
    class FlattenLayer(nn.Module):
        def forward(self, x):
            return x.view(x.shape[0], -1)

    net = nn.Sequential(FlattenLayer(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(32, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 10))
    det_init(T, net)
    x = arr(T, 3, 4, 4)
    net.eval()
    y_eval = net(x)
    net.train()
    dropped = nn.Dropout(0.5)(T.ones(1000))
    kept = float((dropped != 0).float().mean())

    def l2_penalty(w):
        return (w ** 2).sum() / 2

    return {"repr": str(net), "eval": y_eval, "train_differs": bool((net(x) != y_eval).any()),
            "kept_ok": 0.4 < kept < 0.6, "scaled": sorted(set(dropped.tolist())),
            "l2": l2_penalty(net[1].weight)}


@program("003 §4-1 MySequential, add_module, ModuleList vs list")
def my_sequential(T, nn, F):
    class MySequential(nn.Module):
        def __init__(self, *args):
            super().__init__()
            if len(args) == 1 and isinstance(args[0], OrderedDict):
                for key, module in args[0].items():
                    self.add_module(key, module)
            else:
                for idx, module in enumerate(args):
                    self.add_module(str(idx), module)

        def forward(self, input):
            for module in self._modules.values():
                input = module(input)
            return input

    net = det_init(T, MySequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)),
                   scale=0.05)
    named = MySequential(OrderedDict([("hidden", nn.Linear(4, 3)), ("act", nn.ReLU())]))
    listed = nn.ModuleList([nn.Linear(784, 256), nn.ReLU()])
    listed.append(nn.Linear(256, 10))

    class PlainList(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(3, 3)]

    return {"repr": str(net), "y": net(arr(T, 2, 784)), "named": str(named),
            "listed": str(listed), "listed_names": [n for n, _ in listed.named_parameters()],
            "plain_list_params": len(list(PlainList().parameters()))}


@program("003 §4-2 named_parameters, nn.Parameter")
def named_parameters(T, nn, F):
    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight1 = nn.Parameter(T.rand(20, 20))
            self.weight2 = T.rand(20, 20)  # not registered
            self.hidden = nn.Linear(20, 4)

    net = MyModel()
    return [(name, param.size()) for name, param in net.named_parameters()] + \
        [isinstance(net.weight1, nn.Parameter), type(net.weight2).__name__]


@program("003 §4-2/4-4 ParameterList, ParameterDict")
def parameter_containers(T, nn, F):
    class MyListDense(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterList([nn.Parameter(T.randn(4, 4)) for i in range(3)])
            self.params.append(nn.Parameter(T.randn(4, 1)))

        def forward(self, x):
            for i in range(len(self.params)):
                x = T.mm(x, self.params[i])
            return x

    class MyDictDense(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterDict({
                "linear1": nn.Parameter(T.randn(4, 4)),
                "linear2": nn.Parameter(T.randn(4, 1))})
            self.params.update({"linear3": nn.Parameter(T.randn(4, 2))})

        def forward(self, x, choice="linear1"):
            return T.mm(x, self.params[choice])

    dense, dictd = det_init(T, MyListDense()), det_init(T, MyDictDense())
    x = T.ones(1, 4)
    y = dense(x).sum()
    y.backward()
    mixed = nn.ParameterList([nn.Parameter(T.zeros(2, 3, dtype=T.float64))])
    mixed.append(T.ones(2))  # a plain tensor becomes a Parameter
    mixed.append(3)
    return {"list": str(dense), "dict": str(dictd), "y": y, "grads": [p.grad for p in
                                                                       dense.params],
            "choices": [dictd(x, c) for c in ("linear1", "linear2", "linear3")],
            "keys": list(dictd.state_dict()), "mixed": str(mixed),
            "types": [type(p).__name__ for p in mixed], "slice": str(dense.params[1:3]),
            "dict_api": [list(dictd.params.keys()), "linear2" in dictd.params,
                         len(dictd.params)]}


@program("003 §4-2 shared parameters (y = 9, grad = 6)")
def shared_parameters(T, nn, F):
    linear = nn.Linear(1, 1, bias=False)
    net = nn.Sequential(linear, linear)
    for name, param in net.named_parameters():  # noqa: B007  (seed code)
        nn.init.constant_(param, val=3)
    x = T.ones(1, 1)
    y = net(x).sum()
    y.backward()
    return {"net": str(net), "y": y, "grad": net[0].weight.grad,
            "names": [n for n, _ in net.named_parameters()], "same": id(net[0]) == id(net[1])}


@program("003 §4-2 printing y shows grad_fn=<SumBackward0>")
def grad_fn_repr(T, nn, F):
    linear = nn.Linear(1, 1, bias=False)
    nn.init.constant_(linear.weight, val=3)
    net = nn.Sequential(linear, linear)
    return repr(net(T.ones(1, 1)).sum())


@program("003 §4-5 state_dict, save/load")
def state_dict_save_load(T, nn, F):
    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(3, 2)
            self.act = nn.ReLU()
            self.output = nn.Linear(2, 1)

        def forward(self, x):
            return self.output(self.act(self.hidden(x)))

    net = det_init(T, MLP())
    optimizer = T.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    x = arr(T, 4, 3)
    net(x).sum().backward()
    optimizer.step()
    opt_state = optimizer.state_dict()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net.pt")
        T.save(net.state_dict(), path)
        net2 = MLP()
        result = net2.load_state_dict(T.load(path))
    return {"state": dict(net.state_dict()), "y": net2(x),
            "missing": [list(result.missing_keys), list(result.unexpected_keys)],
            "groups": [{k: v for k, v in g.items()} for g in opt_state["param_groups"]],
            "opt_state": {k: v["momentum_buffer"] for k, v in opt_state["state"].items()}}
