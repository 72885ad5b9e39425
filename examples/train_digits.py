"""Train a classifier on scikit-learn's bundled 8x8 digits (1797 images, no download), in
graphnet's dynamic (eager) or static (traced + XLA-compiled) mode.

It strings together what the seeds teach: a Dataset/DataLoader pipeline and an MLP with
dropout (seed 003 sections 3-1 to 3-13), a LeNet-style conv net (seed 003 5-5, seed 000's
LeNet; ReLU instead of the seed's Sigmoid so a few epochs suffice), an optimizer step per
batch (SGD or Adam), train()/eval() modes and test accuracy.

Run:  python examples/train_digits.py [--mode dynamic|static] [--model mlp|lenet]
                                      [--optimizer adam|sgd] [--epochs N] [--quick]
Defaults (MLP, Adam, 20 epochs) reach 96.4% test accuracy, the same in either mode.
"""

import argparse
import time

import numpy as np

import graphnet as torch
from graphnet import nn
from graphnet.utils.data import DataLoader, TensorDataset, random_split


def digits_datasets(seed: int):
    """80/20 split of the digits: images scaled to [0, 1] as (1, 8, 8), labels int64."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    return random_split(dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(seed))


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(128, 10),
    )


class LeNet(nn.Module):
    """Seed 003's LeNet (conv block, then fully connected block) sized for 8x8 inputs."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=1),  # in_channels, out_channels, kernel_size
            nn.ReLU(),
            nn.MaxPool2d(2, 2),  # kernel_size, stride: 8x8 -> 4x4
            nn.Conv2d(6, 16, 3),  # 4x4 -> 2x2
            nn.ReLU(),
        )
        self.fc = nn.Sequential(
            nn.Linear(16 * 2 * 2, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )

    def forward(self, img):
        feature = self.conv(img)
        return self.fc(feature.view(img.shape[0], -1))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["dynamic", "static"], default="dynamic")
    parser.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 epochs, for CI")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 2
    return args


def main(argv=None) -> float:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_set, test_set = digits_datasets(args.seed)
    # drop_last keeps every training batch the same shape: one compiled program in static mode
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              drop_last=True)
    test_loader = DataLoader(test_set, batch_size=len(test_set))
    model = mlp() if args.model == "mlp" else LeNet()
    if args.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def train_step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def predict(x):
        return model(x).argmax(dim=1)

    if args.mode == "static":
        train_step, predict = torch.compile(train_step), torch.compile(predict)

    print(f"mode={args.mode} model={args.model} optimizer={args.optimizer} "
          f"train={len(train_set)} test={len(test_set)}")
    start = time.perf_counter()
    accuracy = 0.0
    for epoch in range(args.epochs):
        model.train()
        total, batches = 0.0, 0
        for x, y in train_loader:
            total += train_step(x, y).item()
            batches += 1
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += (predict(x) == y).sum().item()
        accuracy = correct / len(test_set)
        print(f"epoch {epoch + 1:2d}: train loss {total / batches:.4f}  "
              f"test accuracy {accuracy:.4f}")
    print(f"test accuracy: {accuracy:.4f} ({time.perf_counter() - start:.1f}s)")
    return accuracy


if __name__ == "__main__":
    main()
