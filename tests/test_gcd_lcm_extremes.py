"""gcd and lcm as PyTorch's CPU kernels compute them, the integer minimum included:
jnp.gcd never returned for gcd(5, -2**31) in int32 (PyTorch: -1), and lcm of int8 values
wraps as C's int arithmetic does (lcm(127, 6) is -6 in int8)."""

import numpy as np
import pytest
from parity import torch

import graphnet


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
def test_gcd_and_lcm_match_torch_at_the_extremes(dtype, compiled):
    info = np.iinfo(dtype)
    vals = np.array([0, 1, info.max, 5, 6, 12] + ([-1, info.min, -4, -18] if info.min else []),
                    dtype)
    a, b = np.repeat(vals, len(vals)), np.tile(vals, len(vals))
    ta, tb = torch.tensor(a), torch.tensor(b)
    g = torch.gcd(ta, tb)
    keep = ~((ta == info.min) & (g == -1)).numpy() if info.min else np.ones(len(a), bool)
    for op, (x, y) in (("gcd", (a, b)), ("lcm", (a[keep], b[keep]))):  # torch's lcm traps
        want = getattr(torch, op)(torch.tensor(x), torch.tensor(y)).numpy()  # on min / -1
        run = (lambda p, q, op=op: getattr(graphnet, op)(p, q))
        run = graphnet.compile(run) if compiled else run
        got = run(graphnet.tensor(x), graphnet.tensor(y)).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want, err_msg=f"{op} {dtype}")


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_gcd_and_lcm_broadcast(compiled):
    a = np.array([[5, -12, 0, 7], [4, 9, -6, 1]], np.int32)
    b = np.array([-2**31, 18, 0, 3], np.int32)
    for op in ("gcd", "lcm"):
        run = (lambda p, q, op=op: getattr(graphnet, op)(p, q))
        run = graphnet.compile(run) if compiled else run
        want = getattr(torch, op)(torch.tensor(a), torch.tensor(b)).numpy()
        np.testing.assert_array_equal(run(graphnet.tensor(a), graphnet.tensor(b)).numpy(), want)
