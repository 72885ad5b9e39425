"""Which attributes become parameters, mirroring seed 004 ("nn.Parameter", "nn.ModuleList 和
nn.ParameterList") and seed 003 sections 4-1/4-2/4-4 (add_module, MySequential,
named_parameters, ParameterList, ParameterDict.update) and the constant parameter of seed 001.

A plain tensor attribute and a Python list of layers are NOT registered; nn.Parameter,
submodules, nn.ModuleList, nn.ParameterList and nn.ParameterDict are.

Run: python examples/parameter_registration.py
"""

from collections import OrderedDict

import graphnet as torch
from graphnet import nn


class Net1(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Linear(10, 5)
        self.tens = torch.ones(3, 4)  # a plain tensor: not a parameter


class Net2(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Linear(10, 5)
        self.tens = nn.Parameter(torch.ones(3, 4))  # shows up in parameters()


class Net3(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Linear(10, 5)
        self.net = Net2()  # Net2's parameters show up as net.conv.*, net.tens


class ListNet(nn.Module):
    """Seed 004's YOLO story: layers kept in a Python list are invisible to the optimizer."""

    def __init__(self, layers, wrap: bool):
        super().__init__()
        self.layers = nn.ModuleList(layers) if wrap else layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MyListDense(nn.Module):
    """Seed 003 4-4: a ParameterList used in forward with torch.mm."""

    def __init__(self):
        super().__init__()
        self.params = nn.ParameterList([nn.Parameter(torch.randn(4, 4)) for i in range(3)])
        self.params.append(nn.Parameter(torch.randn(4, 1)))

    def forward(self, x):
        for i in range(len(self.params)):
            x = torch.mm(x, self.params[i])
        return x


class MyDictDense(nn.Module):
    """Seed 003 4-4: a ParameterDict extended with update(), one entry chosen per call."""

    def __init__(self):
        super().__init__()
        self.params = nn.ParameterDict({
            "linear1": nn.Parameter(torch.randn(4, 4)),
            "linear2": nn.Parameter(torch.randn(4, 1)),
        })
        self.params.update({"linear3": nn.Parameter(torch.randn(4, 2))})  # 新增

    def forward(self, x, choice="linear1"):
        return torch.mm(x, self.params[choice])


class MySequential(nn.Module):
    """Seed 003 4-1: add_module registers children in self._modules, in order."""

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


class FancyMLP(nn.Module):
    """Seed 001/003: a constant (untrained) weight and a layer used twice."""

    def __init__(self):
        super().__init__()
        self.rand_weight = torch.rand((20, 20), requires_grad=False)  # 常数参数
        self.linear = nn.Linear(20, 20)

    def forward(self, x):
        x = self.linear(x)
        x = nn.functional.relu(torch.mm(x, self.rand_weight) + 1)
        x = self.linear(x)  # the same layer again: its parameters are shared
        while x.norm().item() > 1:
            x /= 2
        if x.norm().item() < 0.8:
            x *= 10
        return x.sum()


def names(module: nn.Module) -> list:
    return [name for name, _ in module.named_parameters()]


def main() -> None:
    torch.manual_seed(0)
    print("== plain tensor vs nn.Parameter vs submodule ==")
    for net in (Net1(), Net2(), Net3()):
        shapes = [list(p.shape) for p in net.parameters()]
        print(f"{type(net).__name__}: {names(net)} shapes={shapes}")

    print("== Python list vs nn.ModuleList ==")
    layer_list = [nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 2)]
    print("python list:", names(ListNet(layer_list, wrap=False)))
    print("ModuleList :", names(ListNet(layer_list, wrap=True)))

    print("== ParameterList ==")
    net = MyListDense()
    print(net)
    print("output shape:", net(torch.ones(1, 4)).shape)

    print("== ParameterDict ==")
    net = MyDictDense()
    print(net)
    x = torch.ones(1, 4)
    for choice in ("linear1", "linear2", "linear3"):
        print(choice, "->", list(net(x, choice).shape))

    print("== add_module / MySequential ==")
    net = MySequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    print(net)
    print("output shape:", net(torch.rand(2, 784)).shape)

    print("== named_parameters ==")
    for name, param in net.named_parameters():
        print(name, param.size())

    print("== a constant weight is not a parameter ==")
    fancy = FancyMLP()
    print("FancyMLP parameters:", names(fancy))
    print("FancyMLP output is a scalar:", fancy(torch.rand(2, 20)).shape)


if __name__ == "__main__":
    main()
