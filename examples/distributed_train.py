"""Data-parallel training in several processes, the PyTorch way: every process builds the same
model (the same `graphnet.manual_seed`), reads its own share of each batch through a
DistributedSampler, averages the gradients with the other processes
(`graphnet.distributed.all_reduce`, an XLA collective) and takes the same optimizer step, so
the models stay equal and match one process training on the whole batch.

    python -m graphnet.distributed.launch --nproc 2 examples/distributed_train.py
    python -m graphnet.distributed.launch --nproc 2 --cpu-devices 2 examples/distributed_train.py
    python examples/distributed_train.py          # one process: the same parameters
    python -m graphnet.distributed.launch --nproc 2 --cpu-devices 2 \
        examples/distributed_train.py --compiled  # one SPMD program over 4 devices

`--batch-size` is the global batch (split over the processes); with a dataset size that it
divides, the global batches are the same sets of samples whatever the process count.
"""

import argparse
import os

import numpy as np

import graphnet as torch
import graphnet.distributed as dist
from graphnet import nn
from graphnet.utils.data import DataLoader, DistributedSampler, TensorDataset


def make_data(n: int = 64):
    rng = np.random.RandomState(0)
    x = rng.randn(n, 8).astype(np.float32)
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def train(epochs: int, batch_size: int, lr: float, compiled: bool = False) -> nn.Module:
    world = dist.get_world_size() if dist.is_initialized() else 1
    rank = dist.get_rank() if dist.is_initialized() else 0
    if batch_size % world:
        raise SystemExit(f"--batch-size {batch_size} does not split over {world} processes")
    data = make_data()
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=batch_size // world, sampler=sampler)
    torch.manual_seed(0)      # the same initial weights in every process
    model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if world > 1 and not compiled:   # eagerly: average the gradients by hand
            for p in model.parameters():
                dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)
        opt.step()
        return loss.detach()

    if compiled:
        # one SPMD program over every device of every process: each process passes its own
        # share of the batch, XLA all-reduces the gradients, the loss is the global mean
        step = torch.compile(step, mesh=dist.mesh())
    for epoch in range(epochs):
        sampler.set_epoch(epoch)  # a new shuffle, the same in every process
        total = torch.zeros(())
        for x, y in loader:
            loss = step(x, y)
            total = total + torch.tensor(loss.item())
        if world > 1 and not compiled:
            dist.all_reduce(total, op=dist.ReduceOp.AVG)
        if rank == 0:
            print(f"epoch {epoch}: mean loss {total.item() / len(loader):.4f}")
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--compiled", action="store_true",
                        help="one graphnet.compile(step, mesh=dist.mesh()) program over all "
                             "processes' devices instead of eager steps and all_reduce")
    parser.add_argument("--out", help="write this process's final parameters to this .npz "
                        "path; {rank} in it becomes the process's rank")
    opts = parser.parse_args(argv)
    if "WORLD_SIZE" in os.environ and not dist.is_initialized():
        dist.init()               # started by a launcher: join the other processes
    model = train(opts.epochs, opts.batch_size, opts.lr, opts.compiled)
    if opts.out:
        rank = dist.get_rank() if dist.is_initialized() else 0
        params = {k: v.numpy() for k, v in model.state_dict().items()}
        np.savez(opts.out.format(rank=rank), **params)
    return model


if __name__ == "__main__":
    main()
