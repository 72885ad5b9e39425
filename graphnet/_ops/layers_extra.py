"""Layer ops: embedding_bag (sums, means or maxima of bags of embedding rows) and PyTorch's
legacy cross-map LRN.

A bag is a run of positions in the flat index list that starts at one of `offsets`; each
position's bag number is a running count of the offsets before it inside the kernel, so
offsets stay data and one compiled program serves every bag layout of the same sizes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import _xp, first_failure, first_where
from .sequence import _gradient_scaled
from ._table import ValueCheck, defop


def _bag_inputs(weight, indices, offsets, *_, mode="sum", **__):
    """Rows in [0, num_embeddings), offsets[0] == 0, offsets[-1] at most the input's length
    and, for 'sum' and 'mean', offsets that never decrease (PyTorch's index errors; before,
    a decreasing offset made an empty bag and moved rows to the next one). Facts: (row, its
    position in its bag, num_embeddings), (offsets[0], -1, 0), (offsets[-1], -2, length) or
    (0, -3, 0)."""
    xp = _xp(indices)
    outside = (indices < 0) | (indices >= weight.shape[0])
    bad_row, row = first_where(outside, indices)
    _, position = first_where(outside, xp.arange(indices.size).reshape(indices.shape))
    if offsets.size == 0:   # [B, L] bags: the position in its row
        return bad_row, (row, position % max(indices.shape[-1], 1), weight.shape[0])
    starts = offsets.reshape(-1)
    start = xp.where(starts <= position, starts, 0).max()   # where its bag starts
    row_facts = (row, position - start, weight.shape[0])
    first, last = starts[:1].sum(), starts[-1:].sum()
    decreasing = (starts[1:] < starts[:-1]).any() if mode != "max" else False
    return first_failure([(bad_row, row_facts), (first != 0, (first, -1, 0)),
                          (last > indices.size, (last, -2, indices.size)),
                          (decreasing, (0, -3, 0))])


def _bag_error(facts, **_):
    value, position, num = facts
    if position == -2:
        return RuntimeError(f"offsets[-1] can not be greater than input's length {num} but got "
                            f"offsets[-1] of {value}")
    if position == -3:
        return RuntimeError("Expected i < index_size to be true, but got false.  (Could this "
                            "error message be improved?  If so, please report an enhancement "
                            "request to PyTorch.)")
    if position < 0:
        return RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                            f"has to start from position 0. However, got {value}")
    return RuntimeError(f"Index {position} of input takes value {value} which is not in the "
                        f"valid range [0, {num})")


@defop("embedding_bag", "opaque", nondiff_inputs=(1, 2),
       check=ValueCheck(_bag_inputs, _bag_error), function="nn.functional.embedding_bag",
       method=None)
def embedding_bag(weight, indices, offsets, *per_sample_weights, mode, padding_idx=None,
                  include_last_offset=False, scale_grad_by_freq=False):
    """weight [num, dim], flat indices [n], offsets [bags (+1)] -> [bags, dim].

    mode 'sum' (optionally times per_sample_weights [n]), 'mean' or 'max' over each bag;
    positions holding `padding_idx` are left out (and counted out of the mean); an empty bag
    gives zeros. `scale_grad_by_freq` ('sum' and 'mean') divides the weight's gradient by
    index frequencies, as PyTorch's CPU kernel does (`_frequency_scale`)."""
    n = indices.shape[0]
    bags = offsets.shape[0] - (1 if include_last_offset else 0)
    if bags == 0:   # no bag for any position to land in (PyTorch crashes here)
        return jnp.zeros((0, weight.shape[1]), weight.dtype)
    if scale_grad_by_freq:
        weight = _gradient_scaled(weight, _frequency_scale(indices, weight.shape[0]))
    # A position's bag counts the offsets after the first that lie at or before it: for
    # sorted offsets the runs between them, and for decreasing ones (which PyTorch's 'max'
    # accepts) the runs between the offsets as if sorted, as PyTorch's cumsum of marks gives.
    marks = jnp.zeros((n + 1,), offsets.dtype).at[offsets[1:]].add(1, mode="drop")
    bag = jnp.cumsum(marks[:n])
    summed = counted = bag
    if include_last_offset:
        # Positions from the last offset on belong to no bag. NOTE: PyTorch's CPU kernels
        # differ here and we follow them: 'max', a padding_idx, and the count of 'mean' let
        # the last bag run to the end of the input.
        counted = jnp.minimum(bag, bags - 1)
        past_end = jnp.arange(n) >= offsets[-1]
        summed = counted if padding_idx is not None or mode == "max" else \
            jnp.where(past_end, bags, bag)
    # Out-of-range rows read NaN rather than wrapping; the check raises PyTorch's IndexError.
    rows = jnp.take(weight, jnp.where(indices < 0, weight.shape[0], indices), axis=0,
                    mode="fill")
    keep = jnp.ones((n,), bool) if padding_idx is None else indices != padding_idx
    count = jax.ops.segment_sum(keep.astype(weight.dtype), counted, bags)[:, None]
    if mode == "max":
        kept = jnp.where(keep[:, None], rows, -jnp.inf)
        top = jax.ops.segment_max(kept, summed, bags)
        # The value is read back from the first position holding each maximum, so a tie
        # sends the whole gradient to that one row, as PyTorch's max_indices do (the
        # gradient of segment_max would split it between the tied rows).
        here = jnp.arange(n)[:, None]
        first = jax.ops.segment_min(jnp.where(kept == top[summed], here, n), summed, bags)
        picked = jnp.take_along_axis(rows, jnp.minimum(first, n - 1), axis=0)
        return jnp.where(count > 0, picked, jnp.zeros((), weight.dtype))
    if per_sample_weights:
        rows = rows * per_sample_weights[0][:, None]
    total = jax.ops.segment_sum(jnp.where(keep[:, None], rows, 0), summed, bags)
    if mode == "sum":
        return total
    if include_last_offset and padding_idx is None:
        # PyTorch's mean counts the positions past the last offset into the last bag and
        # sends them its gradient, while their rows stay out of its value: add them as zeros
        # that carry a gradient.
        trailing = jnp.where(past_end[:, None], _zero_with_gradient(rows), 0)
        total = total + jax.ops.segment_sum(trailing, counted, bags)
    return total / jnp.maximum(count, 1)


@jax.custom_jvp
def _zero_with_gradient(x):
    """Zeros of x's shape whose derivative is the identity: a term that adds nothing to a
    value but passes the gradient on to x, whatever x holds (inf or NaN included)."""
    return jnp.zeros_like(x)


_zero_with_gradient.defjvp(lambda primals, tangents: (jnp.zeros_like(primals[0]), tangents[0]))


def _frequency_scale(indices, num):
    """[num, 1]: what scale_grad_by_freq multiplies each weight row's gradient by.

    NOTE: PyTorch's CPU kernel (_embedding_bag_dense_backward_cpu_sum_mean) divides the
    gradient of the i-th smallest distinct index by the count of `sorted(indices)[i]`, not
    by that index's own count: for indices [0, 0, 1] row 1 gets half its gradient. We
    follow it, to give its numbers; the two agree where every index occurs equally often."""
    if indices.shape[0] == 0:
        return jnp.ones((num, 1))
    counts = jnp.bincount(indices, length=num)
    rank = jnp.cumsum(counts > 0) - 1        # the i of each present row among the distinct
    ordered = jnp.sort(indices)
    divisor = counts[ordered[jnp.clip(rank, 0, indices.shape[0] - 1)]]
    return (1.0 / jnp.maximum(divisor, 1))[:, None]


def _cross_map_window(channels: int, size: int) -> np.ndarray:
    """[C, C] 0/1: the channels each channel's scale sums. PyTorch's running-sum loop adds
    channel c + pre_pad - 1 and drops channel c - pre_pad only for c > pre_pad, so channel 0
    is never dropped; this matrix reproduces that loop exactly."""
    pre_pad = int((size - 1) / 2 + 1)
    window = np.zeros((channels, channels), np.float32)
    for c in range(channels):
        window[c, :min(c + pre_pad - 1, channels - 1) + 1] = 1
        if c > pre_pad:
            window[c, 1:c - pre_pad + 1] = 0
    return window


def _cross_map_band(channels: int, size: int) -> np.ndarray:
    """[C, C] 0/1: the channels PyTorch's hand-written backward sums for each channel, a
    window of `size` starting `size - (size - 1) / 2` channels before it."""
    before = int(size - (size - 1) / 2)
    c, i = np.arange(channels)[:, None], np.arange(channels)[None, :]
    return ((i >= c - before) & (i <= c + size - 1 - before)).astype(np.float32)


@defop("cross_map_lrn2d", "opaque", function=None, method=None)   # nn.CrossMapLRN2d
def cross_map_lrn2d(x, *, size, alpha, beta, k):
    """PyTorch's legacy cross-channel LRN of [N, C, H, W]: x * (k + alpha/size * window sum
    of x^2)^-beta. Its gradient is PyTorch's own backward formula, which is not the exact
    derivative of its (asymmetric-window) forward: kept so training matches PyTorch."""
    channels = x.shape[1]
    window = jnp.asarray(_cross_map_window(channels, size), x.dtype)
    band = jnp.asarray(_cross_map_band(channels, size), x.dtype)

    def forward(x):
        scale = k + alpha / size * jnp.einsum("nchw,dc->ndhw", x * x, window)
        out = x * scale ** -beta
        return out, (x, out, scale)

    def backward(saved, grad):
        x, out, scale = saved
        accum = jnp.einsum("nchw,dc->ndhw", grad * out / scale, band)
        return (scale ** -beta * grad - (2 * alpha * beta / size) * x * accum,)

    lrn = jax.custom_vjp(lambda x: forward(x)[0])
    lrn.defvjp(forward, backward)
    return lrn(x)
