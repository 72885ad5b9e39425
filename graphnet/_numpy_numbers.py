"""NumPy numbers read as PyTorch's argument parser reads them: as Python numbers.

`torch.full((2,), np.int64(7))` is int64 and `torch.arange(np.float32(0.5), 3)` float32,
as with `7` and `0.5`; `clamp(int_tensor, np.float32(1.5))` and `where(c, int_tensor,
np.float32(2.5))` are the default float, not float64. Kept as NumPy numbers, graphnet's
checks for `int` and `float` missed them (full gave float32, arange int64) or JAX promoted
them as typed arrays (float64)."""

from __future__ import annotations

import numpy as np


def python_number(value):
    """`value` as the Python number PyTorch reads: a NumPy integer an int, a NumPy float a
    float, a NumPy bool a float (PyTorch has no NumPy bool scalar: `torch.full((2,),
    np.bool_(True))` is float32 ones). Anything else, tensors included, as it is."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, np.bool_)):
        return float(value)
    return value
