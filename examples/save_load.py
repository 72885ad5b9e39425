"""Saving and loading, mirroring seed 003 section 4-5 and seed 004 ("保存您的模型"):
`state_dict()` maps parameter names (the attribute names in `__init__`) to tensors; save it
with `graphnet.save`, rebuild the model, `load_state_dict(graphnet.load(path))`. Optimizers
have a `state_dict` too (hyper-parameters plus e.g. momentum buffers).

graphnet writes checkpoints as safetensors files and never pickles: save the state_dict
(the recommended way in the seeds too), not the whole module object.

Run: python examples/save_load.py
"""

import os
import tempfile

import graphnet as torch
import graphnet.nn.functional as F
from graphnet import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 2)
        self.act = nn.ReLU()
        self.output = nn.Linear(2, 1)

    def forward(self, x):
        return self.output(self.act(self.hidden(x)))


def main() -> None:
    torch.manual_seed(0)
    net = MLP()
    print(net.state_dict())
    print("keys:", list(net.state_dict().keys()))
    for key in net.state_dict():
        print(key, list(net.state_dict()[key].shape))

    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    x, y = torch.randn(4, 3), torch.randn(4, 1)
    F.mse_loss(net(x), y).backward()
    optimizer.step()
    print("optimizer state_dict:", optimizer.state_dict()["param_groups"])
    print("optimizer state keys:", {i: list(s) for i, s in optimizer.state_dict()["state"].items()})

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "net_state_dict.pt")
        torch.save(net.state_dict(), path)
        net2 = MLP()
        print(net2.load_state_dict(torch.load(path)))
        same = all(bool((a == b).all()) for a, b in
                   zip(net.state_dict().values(), net2.state_dict().values(), strict=True))
        print("reloaded parameters equal:", same)
        print("same predictions:", bool((net(x) == net2(x)).all()))

        opt_path = os.path.join(tmp, "optim.pt")
        torch.save(optimizer.state_dict(), opt_path)
        optimizer2 = torch.optim.SGD(net2.parameters(), lr=0.5, momentum=0.1)
        optimizer2.load_state_dict(torch.load(opt_path))
        group = optimizer2.param_groups[0]
        print("restored optimizer: lr", group["lr"], "momentum", group["momentum"])

        # a checkpoint can bundle both plus plain values
        ckpt = os.path.join(tmp, "ckpt.pt")
        torch.save({"model": net.state_dict(), "optim": optimizer.state_dict(), "epoch": 3},
                   ckpt)
        print("checkpoint entries:", sorted(torch.load(ckpt)))


if __name__ == "__main__":
    main()
