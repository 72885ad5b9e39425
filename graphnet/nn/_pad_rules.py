"""PyTorch's rules for F.pad's non-constant modes (reflect, replicate, circular): which
input ranks a padding length may pad, how far each mode may reach, and PyTorch's errors.

Kept apart from F.pad itself (nn/functional_norm.py) so the padding modules and the conv
`padding_mode`s (nn/_conv.py, nn/_resample.py) share one statement of them."""

from __future__ import annotations

# padding length -> the input ranks PyTorch pads with a non-constant mode (unbatched, batched)
_RANKS = {2: (2, 3), 4: (3, 4), 6: (4, 5)}


def check_nonconstant_pad(shape, pad, mode: str, value) -> None:
    """Raise PyTorch's error when `pad` (last dim first) cannot pad `shape` in `mode`."""
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    rank = len(shape)
    if rank not in _RANKS.get(len(pad), ()):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {rank}D input tensor.\nSupported "
            f"combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 "
            f"(pads last dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 "
            f"dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    spatial = shape[rank - len(pad) // 2:]
    empty = any(n == 0 for n in shape[1:]) or (rank == len(pad) // 2 + 1 and shape[0] == 0)
    if empty and mode != "circular":   # circular pads empty planes, the others refuse them
        raise RuntimeError(f"Expected {rank - 1}D or {rank}D (batch mode) tensor with possibly "
                           f"0 batch size and other non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]
    for axis, (n, (lo, hi)) in enumerate(zip(spatial, pairs, strict=True)):
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {rank - len(pairs) + axis} of input {list(shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi < 1 or (mode == "circular" and n + min(lo, 0) + min(hi, 0) < 1):
            raise RuntimeError(f"input (size {n}) is too small. Calculated output size: "
                               f"{n + lo + hi}")
