"""Shared parameters, mirroring seed 003 section 4-2: putting the same Linear instance twice
in a Sequential shares one weight. With the weight set to 3 and x = 1 the output is
y = 3 * 3 * 1 = 9, and the gradient sums both uses: dy/dw = 3 + 3 = 6 (the seed prints
`tensor(9., grad_fn=<SumBackward0>)` and `tensor([[6.]])`). The same step is then run
compiled (static graph) to show it gives the same numbers.

Run: python examples/shared_parameters.py
"""

import graphnet as torch
from graphnet import nn
from graphnet.nn import init


def build():
    linear = nn.Linear(1, 1, bias=False)
    net = nn.Sequential(linear, linear)
    for name, param in net.named_parameters():  # noqa: B007  (the seed's loop)
        init.constant_(param, val=3)
    return net


def forward_backward(net, x):
    y = net(x).sum()
    y.backward()
    return y


def main() -> None:
    net = build()
    print(net)
    print("net[0] is net[1]:", net[0] is net[1])
    for name, param in net.named_parameters():
        print(name, param)  # one entry: the weight is registered once

    x = torch.ones(1, 1)
    y = net(x).sum()
    print(y)
    y.backward()
    print(net[0].weight.grad)
    print(f"dynamic: y = {y.item():g}, grad = {net[0].weight.grad.item():g}")

    net = build()
    step = torch.compile(lambda x: forward_backward(net, x))
    y = step(x)
    print(f"static:  y = {y.item():g}, grad = {net[0].weight.grad.item():g}")


if __name__ == "__main__":
    main()
