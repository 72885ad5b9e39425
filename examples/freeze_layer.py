"""Freezing a layer, mirroring seed 000 section 1.2.3: walk `children()` / `named_children()`,
find the embedding layer by name, call `requires_grad_(False)` on it, and from then on only
the other layers get gradients and change when the optimizer steps (the transfer-learning
recipe). The net is the seed's text classifier: Embedding -> Conv1d blocks -> dense head.

Run: python examples/freeze_layer.py
"""

import graphnet as torch
import graphnet.nn.functional as F
from graphnet import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(num_embeddings=10000, embedding_dim=3, padding_idx=1)
        self.conv = nn.Sequential()
        self.conv.add_module("conv_1", nn.Conv1d(in_channels=3, out_channels=16, kernel_size=5))
        self.conv.add_module("pool_1", nn.MaxPool1d(kernel_size=2))
        self.conv.add_module("relu_1", nn.ReLU())
        self.conv.add_module("conv_2", nn.Conv1d(in_channels=16, out_channels=128,
                                                 kernel_size=2))
        self.conv.add_module("pool_2", nn.MaxPool1d(kernel_size=2))
        self.conv.add_module("relu_2", nn.ReLU())
        self.dense = nn.Sequential()
        self.dense.add_module("flatten", nn.Flatten())
        self.dense.add_module("linear", nn.Linear(6144, 1))
        self.dense.add_module("sigmoid", nn.Sigmoid())

    def forward(self, x):
        x = self.embedding(x).transpose(1, 2)
        x = self.conv(x)
        return self.dense(x)


def count_trainable(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def main() -> None:
    torch.manual_seed(0)
    net = Net()

    i = 0
    for child in net.children():
        i += 1
        print(child, "\n")
    print("child number", i)
    i = 0
    for name, child in net.named_children():
        i += 1
        print(name, ":", child, "\n")
    print("child number", i)

    print("trainable parameters before:", count_trainable(net))
    children_dict = {name: module for name, module in net.named_children()}
    embedding = children_dict["embedding"]
    embedding.requires_grad_(False)  # 冻结其参数
    for param in embedding.parameters():
        print("embedding param requires_grad:", param.requires_grad)
    print("trainable parameters after:", count_trainable(net))

    frozen_before = embedding.weight.detach().clone()
    head_before = net.dense.linear.weight.detach().clone()
    optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    x = torch.randint(0, 10000, (4, 200))  # 4 sentences of 200 token ids
    y = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
    loss = F.binary_cross_entropy(net(x), y)
    loss.backward()
    for name, param in net.named_parameters():
        grad = "None" if param.grad is None else list(param.grad.shape)
        print(f"{name:<20} grad: {grad}")
    optimizer.step()
    print("frozen weight unchanged:", bool((embedding.weight == frozen_before).all()))
    print("head weight changed:", bool((net.dense.linear.weight != head_before).any()))


if __name__ == "__main__":
    main()
