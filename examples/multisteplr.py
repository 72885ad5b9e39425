"""Learning-rate schedules, mirroring seed 004 ("学习率调度"): MultiStepLR multiplies the
learning rate by gamma at each milestone epoch. `scheduler.step()` is called once per
epoch, after the batch loop and its `optimizer.step()` calls.

Run: python examples/multisteplr.py
"""

import graphnet as torch
import graphnet.nn.functional as F
from graphnet import nn


def main() -> None:
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    optimiser = torch.optim.SGD(net.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimiser, milestones=[10, 20], gamma=0.1)
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))

    for epoch in range(25):
        lr = optimiser.param_groups[0]["lr"]
        for batch in range(2):  # the batch loop: one optimizer step per batch
            optimiser.zero_grad()
            F.cross_entropy(net(x[batch * 8:(batch + 1) * 8]), y[batch * 8:(batch + 1) * 8]
                            ).backward()
            optimiser.step()
        scheduler.step()  # once per epoch
        print(f"epoch {epoch:2d}: lr {lr:.6g}")
    print("last lr:", [f"{v:.6g}" for v in scheduler.get_last_lr()])


if __name__ == "__main__":
    main()
