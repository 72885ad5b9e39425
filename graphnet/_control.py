"""`graphnet.cond` and `graphnet.while_loop`: value-dependent control flow that works in both
modes. Eagerly they are ordinary Python `if` / `while`; while tracing, the compiler records
each branch (or the loop's condition and body) as a sub-graph, lowered to `lax.cond` /
`lax.while_loop`."""

from __future__ import annotations

from ._mode import EAGER, current_mode
from ._tensor import Tensor


def cond(pred, true_fn, false_fn, *args, operands=None):
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`; both must return tensors of
    the same shapes and dtypes. The operands come as PyTorch's `torch.cond` takes them (one
    tuple or list, positionally or as `operands=`) or one by one.

    Dynamically only the chosen branch runs, as a Python `if`: a parameter only the other
    branch reads keeps `.grad` None, where the compiled cond (`lax.cond`, as `torch.cond`)
    gives it a zero gradient (docs/architecture.md, "Value-dependent control flow").

    >>> y = graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, (x,))
    >>> y = graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, x)
    """
    if operands is not None:
        if args:
            raise TypeError("cond() got operands both positionally and as operands=")
        args = (operands,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        # NOTE: torch.cond's form; before, the tuple itself was the one operand, and
        # `lambda a: a * 2` repeated it instead of doubling the tensor
        args = tuple(args[0])
    if not isinstance(pred, (Tensor, bool, int, float)):   # PyTorch's checks, in both modes
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if isinstance(pred, Tensor) and pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got "
                           f"a tensor of shape {list(pred.shape)}.")
    return (current_mode() or EAGER).cond(pred, true_fn, false_fn, args)


def while_loop(cond_fn, body_fn, init):
    """Repeat `carry = body_fn(*carry)` while `cond_fn(*carry)`; `init` is a tensor or a tuple
    of tensors and the body must keep their shapes and dtypes.

    >>> x = graphnet.while_loop(lambda x: x.norm() > 1, lambda x: x / 2, x)
    """
    single = isinstance(init, Tensor)
    carry = (init,) if single else tuple(init)
    out = (current_mode() or EAGER).while_loop(cond_fn, body_fn, carry)
    return out[0] if single else out
