"""The ways `conv` can be lowered to JAX, as a registry of interchangeable functions.

Every candidate has one signature, `f(x, weight, stride, padding, dilation, groups)` ->
y [N, C_out, *out] (NCHW like PyTorch, no bias; padding as (lo, hi) pairs), and computes the
same sums as the others in a different order, so they differ by float rounding only. Their
gradients are `jax.vjp` of the same function, so the input- and weight-gradient follow the
forward that was chosen. `conv_autotune.py` times them per shape; the fixed rule in `conv.py`
picks between `xla` and `patches_matmul` without measuring."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def conv_out_size(spatial, kernel, stride, padding, dilation) -> tuple:
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(spatial, kernel, stride, padding, dilation,
                                                 strict=True))


def conv_native(x, weight, stride, padding, dilation, groups):
    """XLA's own convolution (`lax.conv_general_dilated`) in PyTorch's NCHW/OIHW layouts."""
    axes = "DHW"[-(weight.ndim - 2):]
    dims = lax.conv_dimension_numbers(x.shape, weight.shape,
                                      ("NC" + axes, "OI" + axes, "NC" + axes))
    return lax.conv_general_dilated(x, weight, tuple(stride), list(padding),
                                    rhs_dilation=tuple(dilation), dimension_numbers=dims,
                                    feature_group_count=groups)


def conv_native_channels_last(x, weight, stride, padding, dilation, groups):
    """XLA's convolution on a channels-last copy of the input (NHWC, weight HWIO), transposed
    back: a layout change inside the program, for backends whose kernels prefer it."""
    nd = weight.ndim - 2
    axes = "DHW"[-nd:]
    x_last = jnp.moveaxis(x, 1, -1)
    w_last = jnp.moveaxis(weight, (0, 1), (-1, -2))
    dims = lax.conv_dimension_numbers(x_last.shape, w_last.shape,
                                      ("N" + axes + "C", axes + "IO", "N" + axes + "C"))
    y = lax.conv_general_dilated(x_last, w_last, tuple(stride), list(padding),
                                 rhs_dilation=tuple(dilation), dimension_numbers=dims,
                                 feature_group_count=groups)
    return jnp.moveaxis(y, -1, 1)


def _shifted_slices(x, kernel, stride, padding, dilation, out):
    """For each kernel offset (row-major), the strided slice of the zero-padded input that
    offset touches: [N, C, *out] each. im2col without a gather."""
    n, c = x.shape[:2]
    zero = jnp.zeros((), x.dtype)
    x = lax.pad(x, zero, [(0, 0, 0), (0, 0, 0)] + [(lo, hi, 0) for lo, hi in padding])
    slices = []
    for offset in itertools.product(*(range(k) for k in kernel)):
        start = (0, 0) + tuple(j * d for j, d in zip(offset, dilation, strict=True))
        limit = (n, c) + tuple(b + (m - 1) * s + 1
                               for b, m, s in zip(start[2:], out, stride, strict=True))
        slices.append(lax.slice(x, start, limit, (1, 1) + tuple(stride)))
    return slices


def conv_as_matmul(x, weight, stride, padding, dilation, groups, out):
    """The convolution as one contraction: the shifted slices stacked (patches), then one
    einsum with the weight per group."""
    n = x.shape[0]
    o, per_group = weight.shape[:2]
    slices = _shifted_slices(x, weight.shape[2:], stride, padding, dilation, out)
    patches = jnp.stack(slices, axis=2).reshape((n, groups, per_group, len(slices)) + out)
    w = weight.reshape(groups, o // groups, per_group, len(slices))
    y = jnp.einsum("ngck...,gock->ngo...", patches, w)
    return y.reshape((n, o) + out)


def conv_patches_matmul(x, weight, stride, padding, dilation, groups):
    out = conv_out_size(x.shape[2:], weight.shape[2:], stride, padding, dilation)
    return conv_as_matmul(x, weight, stride, padding, dilation, groups, out)


def stored(y):
    """y, kept in memory where XLA-CPU would otherwise copy its computation into each consumer.

    NOTE: an elementwise form (shifted_matmuls with one input channel is a sum of outer
    products) is fused by XLA into every consumer of the conv's result, and recomputed in
    each: a max pool reads it four times, its gradient again. Timed alone the form looked
    3-4x faster than the others for LeNet's first conv; in the training step it made the
    step 1.6x slower. A conditional whose branches are both the identity, on a predicate
    XLA cannot decide at compile time (y[0] == y[0] is false for a NaN), is a fusion
    boundary that costs about 20 us (its second branch is written v * 1 because JAX drops
    a conditional whose branches are equal); `lax.optimization_barrier` does not survive XLA-CPU's
    compile. On other backends a conditional would wait on the device, so y is returned."""
    if jax.default_backend() != "cpu" or y.size == 0:   # an empty y has no first element
        return y
    first = y.reshape(-1)[0]
    return lax.cond(first == first, lambda v: v, lambda v: v * 1, y)


def conv_shifted_matmuls(x, weight, stride, padding, dilation, groups):
    """One small matmul per kernel offset (slice [N, C, *out] with weight[:, :, offset]),
    summed, then stored: no stacked patches in memory, kernel-size smaller contractions."""
    return stored(shifted_sum(x, weight, stride, padding, dilation, groups))


def shifted_sum(x, weight, stride, padding, dilation, groups):
    """conv_shifted_matmuls without the storage point: the form a tangent is computed in
    (a predicate read from a tangent could not be transposed)."""
    out = conv_out_size(x.shape[2:], weight.shape[2:], stride, padding, dilation)
    n = x.shape[0]
    o, per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    w = weight.reshape(groups, o // groups, per_group, int(np.prod(kernel)))
    y = None
    slices = _shifted_slices(x, kernel, stride, padding, dilation, out)
    for j, piece in enumerate(slices):
        piece = piece.reshape((n, groups, per_group) + out)
        term = jnp.einsum("ngc...,goc->ngo...", piece, w[..., j])
        y = term if y is None else y + term
    return y.reshape((n, o) + out)


# The stacked patches hold kernel-size copies of the input (and a training step keeps them
# for the weight gradient), so very large inputs are not offered the patches form.
MAX_PATCH_ELEMENTS = 1 << 24   # 64 MiB of float32


def _patches_fit(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    out = conv_out_size(x_shape[2:], w_shape[2:], stride, padding, dilation)
    patch_elements = x_shape[0] * x_shape[1] * int(np.prod(w_shape[2:])) * int(np.prod(out))
    return min(out) > 0 and patch_elements <= MAX_PATCH_ELEMENTS


def _has_output(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    return min(conv_out_size(x_shape[2:], w_shape[2:], stride, padding, dilation)) > 0


@dataclass(frozen=True)
class Candidate:
    name: str
    fn: Callable           # f(x, weight, stride, padding, dilation, groups) -> y
    applies: Callable      # applies(x_shape, w_shape, stride, padding, dilation, groups) -> bool


def _always(*_) -> bool:
    return True


# NOTE: order matters only for ties in measured time (the first one wins), and `xla` first
# keeps XLA's own kernel when nothing is faster.
CANDIDATES = {c.name: c for c in [
    Candidate("xla", conv_native, _always),
    Candidate("xla_channels_last", conv_native_channels_last, _always),
    Candidate("patches_matmul", conv_patches_matmul, _patches_fit),
    Candidate("shifted_matmuls", conv_shifted_matmuls, _has_output),
]}


# The form a candidate's tangent is computed in, where it differs from the candidate.
TANGENT_FORMS = {"shifted_matmuls": shifted_sum}


def candidates_for(x_shape, w_shape, stride, padding, dilation, groups) -> dict:
    """{name: fn} of the candidates that apply to this convolution."""
    args = (tuple(x_shape), tuple(w_shape), stride, padding, dilation, groups)
    return {name: c.fn for name, c in CANDIDATES.items() if c.applies(*args)}


DIRECTIONS = ("forward", "input_grad", "weight_grad")


def conv_by_direction(forward: str, input_grad: str, weight_grad: str, stride, padding,
                      dilation, groups) -> Callable:
    """f(x, weight): candidate `forward`'s values, with the input gradient of candidate
    `input_grad` and the weight gradient of `weight_grad`. A custom JVP whose tangent is
    input_grad's conv of the input tangent plus weight_grad's conv of the weight tangent:
    reverse mode transposes each term, i.e. runs exactly that candidate's pullback for that
    argument, and forward mode (jax.jvp) keeps working, which a custom VJP would not allow."""
    def bind(name, tangent=False):
        fn = TANGENT_FORMS.get(name, CANDIDATES[name].fn) if tangent else CANDIDATES[name].fn
        return lambda x, w: fn(x, w, stride, padding, dilation, groups)
    if forward == input_grad == weight_grad:
        return bind(forward)
    values = bind(forward)
    along_x, along_w = bind(input_grad, tangent=True), bind(weight_grad, tangent=True)

    @jax.custom_jvp
    def conv(x, w):
        return values(x, w)

    @conv.defjvp
    def conv_jvp(primals, tangents):
        x, w = primals
        x_dot, w_dot = tangents
        return values(x, w), along_x(x_dot, w) + along_w(x, w_dot)
    return conv
