"""`convert_conv2d/3d_weight_memory_format`: PyTorch re-lays conv weights as channels_last
for faster cuDNN kernels. XLA arrays have no user-visible memory format (the compiler picks
layouts itself), so graphnet returns the module unchanged: the numbers are identical either
way, and nothing is refused."""

from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def convert_conv2d_weight_memory_format(module, memory_format):
    """Return `module` unchanged (see the module docstring: XLA chooses layouts)."""
    return module


def convert_conv3d_weight_memory_format(module, memory_format):
    """Return `module` unchanged (see the module docstring: XLA chooses layouts)."""
    return module
