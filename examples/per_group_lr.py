"""Different learning rates for different layers, mirroring seed 004 ("不同层次的学习率不同"):
the optimizer takes a list of parameter-group dicts; options missing from a group (fc2's lr
and momentum) come from the optimizer's keyword defaults.

Run: python examples/per_group_lr.py
"""

import graphnet as torch
import graphnet.nn.functional as F
from graphnet import nn


class myNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main() -> None:
    torch.manual_seed(0)
    Net = myNet()
    optimiser = torch.optim.SGD([{"params": Net.fc1.parameters(), "lr": 0.001, "momentum": 0.99},
                                 {"params": Net.fc2.parameters()}], lr=0.01, momentum=0.9)
    print(optimiser)
    for i, group in enumerate(optimiser.param_groups):
        print(f"group {i}: lr={group['lr']} momentum={group['momentum']} "
              f"params={[list(p.shape) for p in group['params']]}")

    # one step: with momentum the first update is exactly lr * grad, per group
    before = {name: p.detach().clone() for name, p in Net.named_parameters()}
    x, y = torch.randn(8, 10), torch.randint(0, 2, (8,))
    optimiser.zero_grad()
    F.cross_entropy(Net(x), y).backward()
    grads = {name: p.grad.detach().clone() for name, p in Net.named_parameters()}
    optimiser.step()
    for name, p in Net.named_parameters():
        step = (before[name] - p.detach()).abs().sum().item()
        lr = step / grads[name].abs().sum().item()
        print(f"{name:<10} effective lr = {lr:.4g}")

    # groups can also be split by kind: no weight decay on biases
    decay = [p for n, p in Net.named_parameters() if n.endswith("weight")]
    no_decay = [p for n, p in Net.named_parameters() if n.endswith("bias")]
    optimiser = torch.optim.SGD([{"params": decay, "weight_decay": 1e-4},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=0.1)
    print("weight_decay per group:", [g["weight_decay"] for g in optimiser.param_groups])


if __name__ == "__main__":
    main()
