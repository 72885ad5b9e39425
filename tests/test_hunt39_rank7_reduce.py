"""An eager backward through a rank-7 broadcast product (RAFT's convex upsampling) runs: XLA-
CPU's YNNPACK reduce fusion crashed the process (SIGSEGV) compiling that VJP, so eager
kernels called with arrays of rank 7 or more compile without it (graphnet/_xla.py). Run in
a subprocess: the crash would take the test worker down."""
import subprocess
import sys

CODE = """
import graphnet as G
a = G.ones(2, 1, 9, 8, 8, 4, 4, requires_grad=True)
b = G.ones(2, 2, 9, 1, 1, 4, 4, requires_grad=True)
(a * b).sum().backward()
print(float(a.grad.sum()), float(b.grad.sum()))
"""


def test_rank7_broadcast_backward_runs():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split() == ["36864.0", "36864.0"]
