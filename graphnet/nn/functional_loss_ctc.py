"""`F.ctc_loss` with PyTorch's signature: log_probs [T, N, C] (or [T, C] unbatched), targets
padded [N, S] or concatenated 1-D, lengths as tensors, lists or tuples. The recursion and
PyTorch's gradient are the op in graphnet/_ops/ctc.py; its value check raises PyTorch's
errors for lengths past the inputs in eager and compiled calls alike."""

from __future__ import annotations

import operator

from .._dispatch import dispatch
from .._dtype import int64
from .._factories import tensor
from .._tensor import Tensor
from .functional_loss import _reduction

__all__ = ["ctc_loss"]


def _invalid_arguments(*args) -> TypeError:
    got = ", ".join(type(a).__name__ for a in args)
    return TypeError(f"ctc_loss() received an invalid combination of arguments - got ({got}), "
                     f"but expected one of:\n * (Tensor log_probs, Tensor targets, tuple of "
                     f"ints input_lengths, tuple of ints target_lengths, int blank, int "
                     f"reduction, bool zero_infinity)\n * (Tensor log_probs, Tensor targets, "
                     f"Tensor input_lengths, Tensor target_lengths, int blank, int reduction, "
                     f"bool zero_infinity)")


def _whole(n) -> bool:
    """An int as PyTorch's `tuple of ints` takes it (not a bool, not a float even if whole)."""
    try:
        operator.index(n)
    except TypeError:
        return False
    return not isinstance(n, bool)


def _lengths(name: str, lengths, batch: int, unbatched: bool) -> Tensor:
    if not isinstance(lengths, Tensor):
        lengths = tensor([operator.index(n) for n in lengths], dtype=int64)
    if lengths.dtype.is_floating_point or lengths.dtype.name == "bool":
        raise RuntimeError(f"{name} must be integral")
    lengths = lengths.reshape(-1) if unbatched else lengths
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return lengths


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist Temporal Classification loss: -log of the total probability of every
    alignment of each target to its input frames. 'mean' divides each item's loss by its
    target length, then averages; `zero_infinity` turns impossible alignments' infinite
    losses (and their gradients) into 0.

    >>> log_probs = torch.randn(50, 16, 20).log_softmax(2)
    >>> targets = torch.randint(1, 20, (16, 30))
    >>> F.ctc_loss(log_probs, targets, (50,) * 16, (30,) * 16)
    """
    reduction = _reduction(None, None, reduction)
    unbatched = log_probs.dim() == 2
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be [T, N, C] or [T, C], got "
                           f"{list(log_probs.shape)}")
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.dim() == 1 else targets
    batch, n_classes = log_probs.shape[1], log_probs.shape[2]
    if not 0 <= blank < n_classes:
        raise RuntimeError("blank must be in label range")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor) or not all(
            isinstance(n, (Tensor, list, tuple)) for n in (input_lengths, target_lengths)):
        raise TypeError(f"ctc_loss() received an invalid combination of arguments: "
                        f"input_lengths and target_lengths must both be Tensors or "
                        f"both tuples of ints, got {type(input_lengths).__name__} and "
                        f"{type(target_lengths).__name__}")
    if not isinstance(input_lengths, Tensor) and not all(
            _whole(n) for lengths in (input_lengths, target_lengths) for n in lengths):
        raise _invalid_arguments(log_probs, targets, input_lengths, target_lengths, 0, 0, True)
    if targets.dim() > 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional "
                           f"tensor for argument #2 'targets' (while checking arguments for "
                           f"ctc_loss_allocate_outputs)")
    input_lengths = _lengths("input_lengths", input_lengths, batch, unbatched)
    target_lengths = _lengths("target_lengths", target_lengths, batch, unbatched)
    if targets.dtype.is_floating_point:   # PyTorch casts float labels to integers
        targets = targets.long()
    if targets.dim() == 2 and targets.shape[0] != batch:
        raise RuntimeError(f"ctc_loss: targets of shape {list(targets.shape)} need "
                           f"{batch} rows, one per batch item")
    loss = dispatch("ctc_loss", log_probs, targets, input_lengths, target_lengths,
                    blank=int(blank), reduction=reduction, zero_infinity=bool(zero_infinity))
    if unbatched and reduction == "none":
        return loss.reshape(())
    from .._grad_fn_names_nn import reduced_loss

    return reduced_loss(loss, reduction, "CtcLossBackward0", "ctc_loss")
