"""Seed corpus, seeds 000 (model building, containers, AlexNet), 001 (computational graph,
Module subclasses, a constant parameter) and 002 (nn.Sequential in depth)."""

from collections import OrderedDict

from corpus_common import arr, det_init, program


def mnist_layers(nn):
    return OrderedDict([("h1", nn.Linear(28 * 28, 32)), ("relu1", nn.ReLU()),
                        ("out", nn.Linear(32, 10)), ("softmax", nn.Softmax(dim=1))])


@program("002 §2.1")
def sequential_in_order(T, nn, F):
    model = det_init(T, nn.Sequential(nn.Linear(28 * 28, 32), nn.ReLU(), nn.Linear(32, 10),
                                      nn.Softmax(dim=1)))
    x_input = arr(T, 2, 28, 28, 1)
    y_pred = model.forward(x_input.view(x_input.size()[0], -1))
    return {"model": "model: " + str(model), "parameters": str(model.parameters),
            "shape": "x_input.shape: " + str(x_input.shape), "y_pred": y_pred}


@program("002 §2.2")
def sequential_from_ordered_dict(T, nn, F):
    model = det_init(T, nn.Sequential(mnist_layers(nn)))
    x_input = arr(T, 2, 28, 28, 1)
    return {"model": model, "y_pred": model.forward(x_input.view(x_input.size()[0], -1)),
            "keys": list(model.state_dict().keys())}


@program("002 §3.1-3.3")
def sequential_index_replace_append(T, nn, F):
    model = nn.Sequential(mnist_layers(nn))
    out = {"index": [str(model[0]), str(model[1]), str(model[2])]}
    model[1] = nn.Sigmoid()
    out["replaced"] = str(model)
    model = nn.Sequential(mnist_layers(nn))
    model.append(nn.Linear(10, 2))
    out["appended"] = str(model)
    return out


@program("002 §3.4")
def sequential_delete(T, nn, F):
    model = nn.Sequential(mnist_layers(nn))
    del model[2]
    return {"deleted": str(model), "keys": list(model.state_dict())}


@program("002 §3.5")
def sequential_nesting(T, nn, F):
    seq_1 = nn.Sequential(nn.Linear(15, 10), nn.ReLU(), nn.Linear(10, 5))
    seq_2 = nn.Sequential(nn.Linear(25, 15), nn.Sigmoid(), nn.Linear(15, 10))
    seq_3 = nn.Sequential(seq_1, seq_2)
    return {"repr": str(seq_3), "names": [n for n, _ in seq_3.named_parameters()],
            "slice": str(seq_3[0][1:])}


class _Net000:
    """Seed 000's text classifier (Embedding -> Conv1d blocks -> dense), built per library."""

    @staticmethod
    def build(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(num_embeddings=100, embedding_dim=3, padding_idx=1)
                self.conv = nn.Sequential()
                self.conv.add_module("conv_1", nn.Conv1d(in_channels=3, out_channels=16,
                                                         kernel_size=5))
                self.conv.add_module("pool_1", nn.MaxPool1d(kernel_size=2))
                self.conv.add_module("relu_1", nn.ReLU())
                self.dense = nn.Sequential()
                self.dense.add_module("flatten", nn.Flatten())
                self.dense.add_module("linear", nn.Linear(16 * 8, 1))
                self.dense.add_module("sigmoid", nn.Sigmoid())

            def forward(self, x):
                x = self.embedding(x).transpose(1, 2)
                return self.dense(self.conv(x))

        return Net()


@program("000 §1.2.3")
def children_and_freezing(T, nn, F):
    net = det_init(T, _Net000.build(nn))
    out = {"children": [str(c) for c in net.children()],
           "named_children": [name for name, _ in net.named_children()],
           "named_modules": [name for name, _ in net.named_modules()]}
    children_dict = {name: module for name, module in net.named_children()}
    children_dict["embedding"].requires_grad_(False)
    out["trainable"] = sum(p.numel() for p in net.parameters() if p.requires_grad)
    x = arr(T, 2, 20, low=0, high=100)
    y = net(x)
    y.sum().backward()
    out["y"] = y
    out["grads"] = {n: p.grad for n, p in net.named_parameters()}
    return out


@program("000 §2.2")
def module_list_of_20_linears(T, nn, F):
    class ModuleList(nn.Module):
        def __init__(self):
            super().__init__()
            self.linears = nn.ModuleList([nn.Linear(10, 10) for i in range(20)])

        def forward(self, x):
            for i, linear in enumerate(self.linears):  # noqa: B007  (seed code)
                x = linear(x)
            return x

    net = det_init(T, ModuleList(), scale=0.3)
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    ml.insert(1, nn.Identity())
    return {"repr": str(net), "y": net(arr(T, 3, 10)), "list": str(ml)}


@program("000 §2.3")
def module_dict_choice(T, nn, F):
    class ModuleDict(nn.Module):
        def __init__(self):
            super().__init__()
            self.choices = nn.ModuleDict({"conv": nn.Conv2d(10, 10, 3), "pool": nn.MaxPool2d(3)})
            self.activations = nn.ModuleDict({"relu": nn.ReLU(), "prelu": nn.PReLU()})

        def forward(self, x, choice, act):
            return self.activations[act](self.choices[choice](x))

    net = det_init(T, ModuleDict())
    x = arr(T, 2, 10, 8, 8)
    out = {"repr": str(net)}
    for choice in ("conv", "pool"):
        for act in ("relu", "prelu"):
            out[choice + "+" + act] = net(x, choice, act)
    popped = net.activations.pop("prelu")
    out["pop"] = [str(popped), list(net.activations.keys()), list(net.choices.items())[0][0]]
    net.choices.clear()
    out["cleared"] = [len(net.choices), [n for n, _ in net.named_parameters()]]
    return out


@program("000 §2.1 LeNetSequential")
def lenet_sequential(T, nn, F):
    class LeNetSequential(nn.Module):
        def __init__(self, classes):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
            self.classifier = nn.Sequential(
                nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                nn.Linear(84, classes))

        def forward(self, x):
            x = self.features(x)
            x = x.view(x.size()[0], -1)
            return self.classifier(x)

    class LeNetSequentialOrderDict(nn.Module):
        def __init__(self, classes):
            super().__init__()
            self.features = nn.Sequential(OrderedDict({
                "conv1": nn.Conv2d(3, 6, 5), "relu1": nn.ReLU(inplace=True),
                "pool1": nn.MaxPool2d(kernel_size=2, stride=2),
                "conv2": nn.Conv2d(6, 16, 5), "relu2": nn.ReLU(inplace=True),
                "pool2": nn.MaxPool2d(kernel_size=2, stride=2)}))
            self.classifier = nn.Sequential(OrderedDict({
                "fc1": nn.Linear(16 * 5 * 5, 120), "relu3": nn.ReLU(),
                "fc2": nn.Linear(120, 84), "relu4": nn.ReLU(inplace=True),
                "fc3": nn.Linear(84, classes)}))

        def forward(self, x):
            x = self.features(x)
            x = x.view(x.size()[0], -1)
            return self.classifier(x)

    net = det_init(T, LeNetSequential(classes=2), scale=0.2)
    named = det_init(T, LeNetSequentialOrderDict(classes=2), scale=0.2)
    x = arr(T, 2, 3, 32, 32)
    return {"repr": str(net), "y": net(x), "named": str(named), "named_y": named(x)}


@program("000 §3 AlexNet")
def alexnet_structure(T, nn, F):
    class AlexNet(nn.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2))
            self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
            self.classifier = nn.Sequential(
                nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
                nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
                nn.Linear(4096, num_classes))

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            return self.classifier(T.flatten(x, 1))

    net = AlexNet(num_classes=10)
    return {"repr": str(net), "numel": sum(p.numel() for p in net.parameters()),
            "shapes": [tuple(p.shape) for p in net.parameters()]}


@program("001 computational graph")
def computational_graph(T, nn, F):
    w = T.tensor([1.0], requires_grad=True)
    x1 = T.tensor([2.0], requires_grad=True)
    x2 = T.tensor([3.0], requires_grad=True)
    a = T.add(x1, w)
    b = T.add(x2, w)
    y = T.mul(a, b)
    y.backward()
    return {"y": y, "grads": [w.grad, x1.grad, x2.grad],
            "is_leaf": [t.is_leaf for t in (w, x1, x2, a, b, y)],
            "has_grad_fn": [t.grad_fn is not None for t in (w, x1, x2, a, b, y)],
            "requires_grad": [t.requires_grad for t in (w, a, y)]}


@program("001 complex model / 003 §4-1 NestMLP, FancyMLP")
def fancy_and_nested_mlp(T, nn, F):
    import numpy as np

    class FancyMLP(nn.Module):
        def __init__(self):
            super().__init__()
            data = np.random.default_rng(5).uniform(0, 1, (20, 20)).astype(np.float32)
            self.rand_weight = T.from_numpy(data)  # constant: not a parameter
            self.rand_weight.requires_grad_(False)
            self.linear = nn.Linear(20, 20)

        def forward(self, x):
            x = self.linear(x)
            x = F.relu(T.mm(x, self.rand_weight) + 1)
            x = self.linear(x)
            while x.norm().item() > 1:
                x /= 2
            if x.norm().item() < 0.8:
                x *= 10
            return x.sum()

    class NestMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(40, 30), nn.ReLU())

        def forward(self, x):
            return self.net(x)

    net = det_init(T, nn.Sequential(NestMLP(), nn.Linear(30, 20), FancyMLP()), scale=0.2)
    X = arr(T, 2, 40)
    y = net(X)
    y.backward()
    return {"repr": str(net), "y": y, "names": [n for n, _ in net.named_parameters()],
            "grad": net[2].linear.weight.grad}
