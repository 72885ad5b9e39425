"""PyTorch's `Transform(cache_size=1)`: the last (x, y) pair a transform computed, so that
`t.inv(t(x))` is `x` itself. Without it, a SAC policy's tanh-squashed action saturated to
1.0 in float32 and the inverse gave inf: `log_prob(rsample())` and its gradients were NaN."""

from __future__ import annotations


def cached(transform, value, side: int, compute):
    """`compute(value)`, where `side` 0 maps x to y (the forward) and 1 maps y to x; with
    cache_size 1, the other half of the last pair when `value` is its `side` half. A value
    a distribution checked while tracing (distributions/_checked.py `tie`) is known by the
    tensor it checked."""
    if not transform._cache_size:
        return compute(value)
    pair = transform.__dict__.get("_pair")
    if pair is not None and (pair[side] is value or pair[side] is getattr(
            value, "__dict__", {}).get("_checked_from")):
        return pair[1 - side]
    out = compute(value)
    transform._pair = (value, out) if side == 0 else (out, value)
    return out
