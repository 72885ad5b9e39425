"""`graphnet.nn.functional`: stateless layer functions (`F.relu`, `F.linear`,
`F.cross_entropy` ...). Each is a dispatch of one op from the op table.

This file holds the linear and activation functions and re-exports the rest, one file per
family: losses (`functional_loss.py`), embedding and attention (`functional_seq.py`),
convolution and pooling (`functional_conv.py`), normalisation and resizing
(`functional_norm.py`),
the less common activations such as `mish`, `selu`, `glu` (`functional_act.py`)."""

from __future__ import annotations

import warnings

from .. import _math as M
from .. import _grad_fn_names, _random
from .._dispatch import dispatch
from .._tensor import Tensor


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return input._assign(result) if inplace else result


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if weight is None:   # a layer mid re-tie (`head.weight = None`)
        raise TypeError("linear(): argument 'weight' (position 2) must be Tensor, not "
                        "NoneType")
    out = dispatch("linear", input, weight) if bias is None else \
        dispatch("linear", input, weight, bias)
    return _grad_fn_names.linear(out, input, bias)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, dispatch("relu", input), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, dispatch("relu6", input), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    out = dispatch("leaky_relu", input, negative_slope=negative_slope)
    # NOTE: PyTorch's in-place leaky_relu_ and elu_ record nodes of their own
    # (LeakyReluBackward1, EluBackward1)
    return _maybe_inplace(input, _grad_fn_names.renamed(
        out, "LeakyReluBackward1" if inplace else None, "leaky_relu"), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    out = dispatch("elu", input, alpha=alpha)
    return _maybe_inplace(input, _grad_fn_names.renamed(
        out, "EluBackward1" if inplace else None, "elu"), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if not isinstance(approximate, str):   # PyTorch's words
        raise TypeError(f"gelu(): argument 'approximate' must be str, not "
                        f"{type(approximate).__name__}")
    if approximate not in ("none", "tanh"):   # "Tanh" gave the erf form silently
        raise RuntimeError("approximate argument must be either none or tanh.")
    return dispatch("gelu", input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, dispatch("silu", input), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return dispatch("softplus", input, beta=float(beta), threshold=float(threshold))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, dispatch("hardtanh", input, min_val=min_val, max_val=max_val),
                          inplace)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    if isinstance(weight, Tensor) and weight.dtype != input.dtype:   # PyTorch does not promote
        from .._ops._promote import torch_name

        raise RuntimeError(f"prelu: Type promoting not supported. Got "
                           f"{torch_name(input.dtype)} and {torch_name(weight.dtype)}")
    count = weight.numel() if isinstance(weight, Tensor) else 1
    if count > 1:   # one slope per channel (dim 1; a 1-d input has one channel)
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() > 1 else 1
        if count != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {count} and channel size = {channels}.")
    return dispatch("prelu", input, weight)


sigmoid, tanh = M.sigmoid, M.tanh


def _implicit_dim(name: str, input, dim, stacklevel: int):
    """PyTorch's deprecated default when `dim` is left out: 0 for 0-, 1- and 3-D inputs, else
    1, with its warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if input.dim() in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    return M.softmax(input, _implicit_dim("softmax", input, dim, _stacklevel), dtype)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    return M.log_softmax(input, _implicit_dim("log_softmax", input, dim, _stacklevel), dtype)




def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, input * 0.0, inplace)
    return _maybe_inplace(input, dispatch("dropout", input, _random.key(), p=float(p)), inplace)


from .functional_loss import *  # noqa: E402,F401,F403
from .functional_seq import *  # noqa: E402,F401,F403
from .functional_conv import *  # noqa: E402,F401,F403
from .functional_norm import *  # noqa: E402,F401,F403
from .functional_act import *  # noqa: E402,F401,F403
from .functional_conv_extra import *  # noqa: E402,F401,F403
from .functional_loss_extra import *  # noqa: E402,F401,F403
from .functional_layers_extra import *  # noqa: E402,F401,F403

# PyTorch's refusals of integer and bool inputs, around the public functions (above)
from ._dtype_refusals import guard_dtypes  # noqa: E402

guard_dtypes(globals())
