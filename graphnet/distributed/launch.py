"""Start N copies of a training script on this machine, as torchrun does for one node.

    python -m graphnet.distributed.launch --nproc 2 examples/distributed_train.py [args ...]
    python -m graphnet.distributed.launch --nproc 2 --cpu-devices 4 train.py   # 8 CPU devices

Each copy gets the variables `graphnet.distributed.init()` reads: RANK and LOCAL_RANK (0 to
N-1), WORLD_SIZE and LOCAL_WORLD_SIZE (N), MASTER_ADDR and MASTER_PORT (process 0 runs JAX's
coordinator there; a free port by default). `--cpu-devices K` runs every copy on the CPU with K
simulated devices (XLA_FLAGS=--xla_force_host_platform_device_count=K, JAX_PLATFORMS=cpu), to
try sharded code without accelerators. If one copy fails, the others are stopped and the
launcher exits with its status. For several machines use torchrun, Slurm or Open MPI: init()
reads their variables too."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def process_env(rank: int, nproc: int, address: str, port: int,
                cpu_devices: int | None = None, base: dict | None = None) -> dict:
    """The environment of copy `rank`: the caller's plus the launcher variables."""
    env = dict(os.environ if base is None else base)
    env.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc),
               LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR=address, MASTER_PORT=str(port))
    if cpu_devices is not None:
        flag = f"--xla_force_host_platform_device_count={cpu_devices}"
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
        env["JAX_PLATFORMS"] = "cpu"
    return env


def launch(script: str, args: list[str], nproc: int, address: str = "127.0.0.1",
           port: int | None = None, cpu_devices: int | None = None) -> int:
    """Run `nproc` copies of `python script args...`; the first non-zero exit status, or 0."""
    port = port or free_port(address)
    procs = [subprocess.Popen([sys.executable, script, *args],
                              env=process_env(rank, nproc, address, port, cpu_devices))
             for rank in range(nproc)]
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [c for c in codes if c not in (None, 0)]
            if failed:
                _stop(procs)
                return failed[0]
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.05)
    except KeyboardInterrupt:
        _stop(procs)
        return 130


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphnet.distributed.launch",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--nproc", "--nproc-per-node", "--nproc_per_node", type=int,
                        default=1, help="how many processes to start (default 1)")
    parser.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    parser.add_argument("--master-port", "--master_port", type=int, default=None,
                        help="the coordinator's port (default: a free one)")
    parser.add_argument("--cpu-devices", type=int, default=None,
                        help="run on the CPU with this many simulated devices per process")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    if opts.nproc < 1:
        parser.error(f"--nproc must be at least 1, got {opts.nproc}")
    if opts.cpu_devices is not None and opts.cpu_devices < 1:
        parser.error(f"--cpu-devices must be at least 1, got {opts.cpu_devices}")
    return launch(opts.script, opts.args, opts.nproc, opts.master_addr, opts.master_port,
                  opts.cpu_devices)


if __name__ == "__main__":
    sys.exit(main())
