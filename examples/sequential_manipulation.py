"""`nn.Sequential` in depth, mirroring seed 002 ("pytorch中nn.Sequential详解"), sections 2-3:
build it from modules or from an OrderedDict, print it, index it, replace a layer
(`model[1] = nn.Sigmoid()`), append one, delete one, and nest Sequentials.

Run: python examples/sequential_manipulation.py
"""

from collections import OrderedDict

import graphnet as torch
from graphnet import nn


def mnist_mlp_layers() -> OrderedDict:
    """The seed's 784-32-10 classifier with named layers (section 2.2)."""
    return OrderedDict([("h1", nn.Linear(28 * 28, 32)),
                        ("relu1", nn.ReLU()),
                        ("out", nn.Linear(32, 10)),
                        ("softmax", nn.Softmax(dim=1))])


def main() -> None:
    torch.manual_seed(0)

    print("== 2.1 modules added in order ==")
    model = nn.Sequential(
        nn.Linear(28 * 28, 32),
        nn.ReLU(),
        nn.Linear(32, 10),
        nn.Softmax(dim=1),
    )
    print("model:", model)
    print("model.parameters:", model.parameters)
    x_input = torch.randn(2, 28, 28, 1)
    print("x_input.shape:", x_input.shape)
    y_pred = model.forward(x_input.view(x_input.size()[0], -1))
    print("y_pred:", y_pred)
    print("y_pred.shape:", y_pred.shape)
    print("y_pred rows sum to 1:", [round(s, 4) for s in y_pred.sum(dim=1).tolist()])

    print("== 2.2 an OrderedDict names the layers ==")
    model = nn.Sequential(mnist_mlp_layers())
    print("model:", model)
    y_pred = model.forward(x_input.view(x_input.size()[0], -1))
    print("y_pred.shape:", y_pred.shape)

    print("== 3.1 indexing ==")
    print("index0:", model[0])
    print("index1:", model[1])
    print("index2:", model[2])

    print("== 3.2 replacing a layer ==")
    model = nn.Sequential(mnist_mlp_layers())
    model[1] = nn.Sigmoid()
    print(model)

    print("== 3.3 appending a layer ==")
    model = nn.Sequential(mnist_mlp_layers())
    model.append(nn.Linear(10, 2))
    print(model)

    print("== 3.4 deleting a layer ==")
    model = nn.Sequential(mnist_mlp_layers())
    del model[2]
    print(model)

    print("== 3.5 nesting ==")
    seq_1 = nn.Sequential(nn.Linear(15, 10), nn.ReLU(), nn.Linear(10, 5))
    seq_2 = nn.Sequential(nn.Linear(25, 15), nn.Sigmoid(), nn.Linear(15, 10))
    seq_3 = nn.Sequential(seq_1, seq_2)
    print(seq_3)
    print("parameter names:", [name for name, _ in seq_3.named_parameters()])


if __name__ == "__main__":
    main()
