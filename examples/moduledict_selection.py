"""Choosing layers at call time with `nn.ModuleDict`, mirroring seed 000 section 2.3: the
forward takes two extra arguments that pick a conv-or-pool layer and an activation by key.
Also shows the dict-like API the seed lists: keys / values / items / pop / clear.

Run: python examples/moduledict_selection.py
"""

import graphnet as torch
from graphnet import nn


class ModuleDict(nn.Module):
    def __init__(self):
        super().__init__()
        self.choices = nn.ModuleDict({
            "conv": nn.Conv2d(10, 10, 3),
            "pool": nn.MaxPool2d(3),
        })
        self.activations = nn.ModuleDict({
            "relu": nn.ReLU(),
            "prelu": nn.PReLU(),
        })

    def forward(self, x, choice, act):
        x = self.choices[choice](x)
        x = self.activations[act](x)
        return x


def main() -> None:
    torch.manual_seed(0)
    net = ModuleDict()
    print(net)

    fake_img = torch.randn(4, 10, 32, 32)
    for choice in ("conv", "pool"):
        for act in ("relu", "prelu"):
            output = net(fake_img, choice, act)
            print(f"choice={choice:<4} act={act:<5} -> output shape {list(output.shape)}, "
                  f"min {output.min().item():.4f}")

    print("keys:", list(net.choices.keys()))
    print("values:", [type(m).__name__ for m in net.choices.values()])
    print("items:", [(k, type(m).__name__) for k, m in net.activations.items()])
    print("parameters:", [name for name, _ in net.named_parameters()])
    popped = net.activations.pop("prelu")
    print("pop('prelu') ->", popped, "; left:", list(net.activations.keys()))
    net.activations.clear()
    print("after clear():", len(net.activations), "activations;",
          [name for name, _ in net.named_parameters()])


if __name__ == "__main__":
    main()
