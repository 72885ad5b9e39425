"""What PyTorch makes of a tensor handed to a constructor: `tensor(t)` copies it, detached,
with a warning; the legacy `Tensor(t)` is an alias of it, which keeps its gradient
(AliasBackward0)."""

from __future__ import annotations

import warnings

import jax

from . import _autograd
from ._dispatch import dispatch
from ._mode import made_from_data
from ._tensor import Tensor


def _copy_warning(what: str) -> None:
    warnings.warn("To copy construct from a tensor, it is recommended to use "
                  "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                  f".requires_grad_(True), rather than {what}(sourceTensor).",
                  UserWarning, stacklevel=4)


def copy_of_tensor(data: Tensor, dtype, what: str) -> Tensor:
    """`data`'s values in a new tensor outside autograd (cast to `dtype` when given), as
    PyTorch's `torch.tensor(data)` (`what` names the call in the warning). In traced code
    the copy is an op of the graph: before, the new tensor held the traced value without
    the trace knowing it, and using it raised "a tensor from another trace"."""
    from ._factories import as_array

    _copy_warning(what)
    if isinstance(data._value, jax.Array):   # eager (a captured tensor's values guarded)
        return made_from_data(Tensor._wrap(as_array(data, dtype)))
    with _autograd.no_grad():
        same = dtype is None or data.dtype == dtype
        return dispatch("clone", data) if same else data.to(dtype)


def keep_gradient(alias: Tensor, source: Tensor) -> None:
    """The legacy `Tensor(source)` made `alias`, sharing `source`'s storage: with grad mode
    on, a gradient reaching `alias` reaches `source` too, as PyTorch's AliasBackward0 (it
    was cut: `Tensor(x)` of an x requiring grad was a new leaf without grad)."""
    if not (source.requires_grad and _autograd.grad_mode.enabled):
        return
    from ._grad_fn_names import renamed

    out = renamed(dispatch("clone", source), "AliasBackward0", "clone")
    alias._value, alias.grad_fn, alias._oi = out._value, out.grad_fn, out._oi
    alias.requires_grad = True
