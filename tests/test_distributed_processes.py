"""Two processes on localhost train one model together (issue 12, item 5).

Each process has 2 simulated CPU devices (XLA_FLAGS, set before JAX starts) and joins the
other through `graphnet.distributed.init()` (gloo CPU collectives), so JAX sees 4 devices.
Each trains the same MLP eagerly on its DistributedSampler share of every batch and averages
the gradients with `all_reduce`; both must end with the same parameters, equal to one process
training on the global batches. This file is also the worker: `python <this file> OUT_DIR`."""

import json
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(REPO, "examples", "distributed_train.py")
WORLD, LOCAL_DEVICES, EPOCHS, BATCH, SEED = 2, 2, 2, 4, 3
TIMEOUT = 60


def dataset():
    from graphnet.utils.data import TensorDataset
    import graphnet

    rng = np.random.RandomState(1)
    x = rng.randn(21, 5).astype(np.float32)   # 21 samples: the sampler pads one per epoch
    y = rng.randn(21, 2).astype(np.float32)
    return TensorDataset(graphnet.from_numpy(x), graphnet.from_numpy(y))


def train(batches, average_gradients=None):
    """SGD with momentum over `batches` (a list of (x, y)); returns the parameters."""
    import graphnet
    from graphnet import nn

    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches:
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        if average_gradients:
            average_gradients(model)
        opt.step()
    return {k: v.numpy() for k, v in model.state_dict().items()}


def worker(out_dir):
    import jax

    import graphnet
    import graphnet.distributed as dist
    from graphnet.utils.data import DataLoader, DistributedSampler

    dist.init()                                    # MASTER_ADDR ... from the test's Popen
    rank, world = dist.get_rank(), dist.get_world_size()
    seen = {"rank": rank, "world": world, "devices": jax.device_count(),
            "local_devices": jax.local_device_count(), "mesh": dict(dist.mesh().shape)}
    total = graphnet.tensor([rank + 1, 10 * (rank + 1)])
    dist.all_reduce(total)                          # int64 sum over the processes
    seen["all_reduce"] = [total.tolist(), str(total.dtype)]
    data = dataset()
    sampler = DistributedSampler(data, shuffle=True, seed=SEED)   # rank/world from the group
    loader = DataLoader(data, batch_size=BATCH, sampler=sampler)
    batches, seen["indices"] = [], []
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        seen["indices"].append(list(sampler))
        batches += list(loader)

    def average(model):
        for p in model.parameters():
            dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)

    params = train(batches, average)
    dist.barrier()
    np.savez(os.path.join(out_dir, f"params{rank}.npz"), **params)
    with open(os.path.join(out_dir, f"seen{rank}.json"), "w") as f:
        json.dump(seen, f)
    dist.destroy_process_group()


def _run_ranks(commands, tmp_path):
    """Start one process per command (rank = position) and wait; fail with their output."""
    from graphnet.distributed.launch import free_port, process_env

    port = free_port()
    procs, logs = [], []
    for rank, command in enumerate(commands):
        log = open(tmp_path / f"log{rank}.txt", "w+")
        env = process_env(rank, len(commands), "127.0.0.1", port, cpu_devices=LOCAL_DEVICES)
        procs.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=log,
                                      stderr=subprocess.STDOUT))
        logs.append(log)
    try:
        codes = [p.wait(timeout=TIMEOUT) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    output = "".join(f"--- rank {r} ---\n{open(log.name).read()[-3000:]}"
                     for r, log in enumerate(logs))
    assert codes == [0] * len(commands), output
    return output


def _max_difference(a, b):
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def test_two_processes_train_like_one_process_on_the_global_batch(tmp_path):
    _run_ranks([[sys.executable, HERE, str(tmp_path)]] * WORLD, tmp_path)
    seen = [json.load(open(tmp_path / f"seen{r}.json")) for r in range(WORLD)]
    for rank, s in enumerate(seen):
        assert (s["rank"], s["world"], s["devices"], s["local_devices"]) == (rank, 2, 4, 2)
        assert s["mesh"] == {"data": 4, "model": 1}
        assert s["all_reduce"] == [[3, 30], "graphnet.int64"]
    # the sampler's shares: disjoint apart from the padding, every sample every epoch
    for epoch in range(EPOCHS):
        shares = [s["indices"][epoch] for s in seen]
        assert [len(x) for x in shares] == [11, 11]
        assert set(shares[0] + shares[1]) == set(range(21))
    assert seen[0]["indices"][0] != seen[0]["indices"][1]   # set_epoch reshuffled

    # one process, batch after batch: the union of both ranks' batches at the same step
    data = dataset()
    global_batches = []
    for epoch in range(EPOCHS):
        ranks = [s["indices"][epoch] for s in seen]
        for start in range(0, 11, BATCH):
            idx = ranks[0][start:start + BATCH] + ranks[1][start:start + BATCH]
            global_batches.append((data.tensors[0][idx], data.tensors[1][idx]))
    single = train(global_batches)
    params = [dict(np.load(tmp_path / f"params{r}.npz")) for r in range(WORLD)]
    assert _max_difference(params[0], params[1]) == 0.0        # the same reduced gradients
    assert _max_difference(params[0], single) < 1e-5
    assert _max_difference(params[0], train([])) > 1e-2        # and it did train


# NOTE: the eager launcher run is `slow` (pytest -m slow): eager all_reduce across processes
# is also covered by test_two_processes_train_like_one_process_on_the_global_batch.
@pytest.mark.parametrize("how", [pytest.param([], marks=pytest.mark.slow), ["--compiled"]],
                         ids=["eager-all_reduce", "compiled-on-a-mesh"])
def test_launcher_runs_the_example_like_one_process(tmp_path, how):
    """Eager steps with all_reduce, or one graphnet.compile(step, mesh=) program spanning
    both processes' devices: the same parameters on both ranks and as one process."""
    out = str(tmp_path / "params{rank}.npz")
    command = [sys.executable, "-m", "graphnet.distributed.launch", "--nproc", "2",
               "--cpu-devices", str(LOCAL_DEVICES), EXAMPLE, "--epochs", "2", "--out", out,
               *how]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.count("epoch ") == 2            # rank 0 prints, rank 1 does not
    params = [dict(np.load(out.format(rank=r))) for r in range(2)]
    model = runpy.run_path(EXAMPLE, run_name="example")["main"](["--epochs", "2"])
    single = {k: v.numpy() for k, v in model.state_dict().items()}
    assert _max_difference(params[0], params[1]) == 0.0
    assert _max_difference(params[0], single) < 1e-5


if __name__ == "__main__":
    worker(sys.argv[1])
