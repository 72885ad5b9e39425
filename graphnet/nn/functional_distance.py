"""Distances with PyTorch's signatures: `cosine_similarity`, `pairwise_distance`, `pdist`
(in nn.functional and at the top level), `cdist` and `dist` (top level, and `Tensor.dist`).

Each checks its arguments as PyTorch does (dims, dtypes, p, broadcastable shapes) and
dispatches one op of graphnet/_ops/distance.py, whose norm has PyTorch's gradient at zero.

>>> import graphnet as torch
>>> torch.cdist(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]))
tensor([[5.]])
"""

from __future__ import annotations

import math

from .._dispatch import dispatch
from .._errors import wrap_dim
from .._tensor import Tensor

__all__ = ["cosine_similarity", "pairwise_distance", "pdist", "cdist", "dist"]

_CDIST_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                "donot_use_mm_for_euclid_dist": 2}


def broadcast_shape(a, b) -> tuple:
    """The broadcast of two shapes, or PyTorch's RuntimeError naming the clashing sizes."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def as_float(t: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype, as PyTorch's distances do."""
    return t if t.dtype.is_floating_point else t.float()


def _floats(fn: str, x1: Tensor, x2: Tensor) -> tuple:
    if not (x1.dtype.is_floating_point or x2.dtype.is_floating_point):
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_torch_name(x1, x2)}")
    return as_float(x1), as_float(x2)


def _torch_name(*ts) -> str:
    names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
             "uint8": "Byte", "bool": "Bool"}
    widest = max(ts, key=lambda t: t.dtype.itemsize)
    return names.get(widest.dtype.name, widest.dtype.name)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 (broadcast) along `dim`; each norm is clamped
    at `eps`, so the result stays in [-1, 1].

    >>> F.cosine_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    x1, x2 = _floats("cosine_similarity", x1, x2)
    if eps < 0:   # a negative eps let a zero vector's norm through: NaN, silently
        raise RuntimeError(f"eps must be non-negative, got: {eps}")
    shape = broadcast_shape(x1.shape, x2.shape)
    dim = wrap_dim(dim, len(shape))
    if not shape:   # 0-d: the cosine of two numbers (their signs' product)
        return dispatch("cosine_similarity", x1.reshape(1), x2.reshape(1), dim=0,
                        eps=float(eps)).reshape(())
    return dispatch("cosine_similarity", x1, x2, dim=dim, eps=float(eps))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """p-norm of `x1 - x2 + eps` over the last dimension (inputs broadcast).

    >>> F.pairwise_distance(torch.zeros(2, 2), torch.ones(2, 2), eps=0.0)
    tensor([1.4142, 1.4142])
    """
    broadcast_shape(x1.shape, x2.shape)
    if not (x1.dtype.is_floating_point or x2.dtype.is_floating_point):
        x1, x2 = as_float(x1), as_float(x2)
    return dispatch("pairwise_distance", x1, x2, p=float(p), eps=float(eps),
                    keepdim=bool(keepdim))


def _p(fn: str, p) -> float:
    if p < 0:
        raise RuntimeError(f"{fn} only supports non-negative p values")
    return float(p)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between every pair of rows i < j of an [N, M] input: [N (N - 1) / 2].

    >>> F.pdist(torch.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]))
    tensor([ 5., 10.,  5.])
    """
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"pdist only supports floating-point dtypes, got: "
                           f"{_torch_name(input)}")
    if input.dtype.name in ("float16", "bfloat16"):   # PyTorch's CPU kernel has none
        raise NotImplementedError(f"\"pdist\" not implemented for "
                                  f"'{'Half' if input.dtype.name == 'float16' else 'BFloat16'}'")
    return dispatch("pdist", input, p=_p("pdist", p))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distance between each row of x1 [..., P, M] and each row of x2 [..., R, M]:
    [..., P, R], batch dims broadcast. For p = 2 PyTorch's `compute_mode` picks the matmul
    form (always, never, or when P or R exceeds 25), which graphnet follows.

    >>> torch.cdist(torch.zeros(2, 3), torch.ones(4, 3)).shape
    graphnet.Size([2, 4])
    """
    for name, t in (("X1", x1), ("X2", x2)):
        if t.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t.dim()}D")
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_torch_name(t)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    p = _p("cdist", p)
    broadcast_shape(x1.shape[:-2], x2.shape[:-2])
    mode = _CDIST_MODES[compute_mode]
    big = x1.shape[-2] > 25 or x2.shape[-2] > 25
    use_mm = p == 2 and x1.numel() > 0 and x2.numel() > 0 and (mode == 1 or mode == 0 and big)
    if x1.numel() == 0 or x2.numel() == 0:
        x2 = x2.to(x1.dtype)   # PyTorch: an empty result of x1's dtype
    else:
        _cdist_dtypes(x1, x2, use_mm)
    return dispatch("cdist", x1, x2, p=p, use_mm=use_mm)


def dist(input: Tensor, other: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm of `input - other` (broadcast) over all elements, as a 0-d tensor.

    >>> torch.dist(torch.zeros(2), torch.tensor([3.0, 4.0]))
    tensor(5.)
    """
    broadcast_shape(input.shape, other.shape)
    if not (input.dtype.is_floating_point or other.dtype.is_floating_point):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {_torch_name(input, other)} instead.")
    p = float(p)
    if math.isnan(p):
        raise RuntimeError("dist: p must not be NaN")
    return dispatch("dist", input, other, p=p)


def _cdist_dtypes(x1: Tensor, x2: Tensor, use_mm: bool) -> None:
    """PyTorch's errors for dtypes its cdist kernels lack: the matmul form needs one dtype
    for both; the direct form has no half-precision kernel and reads x2 as x1's dtype."""
    from .. import _autocast
    from .._ops._promote import cpp_name, torch_name

    a, b = x1.dtype.name, x2.dtype.name
    if _autocast.active and _autocast.policy("cdist", (), {}) == "float32":
        # an autocast region runs cdist in float32 (float64 stays): those are the dtypes
        a, b = ("float32" if n in ("float16", "bfloat16") else n for n in (a, b))
    if use_mm:
        if a != b:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{cpp_name(a)} != {cpp_name(b)}")
        return
    if a in ("float16", "bfloat16"):
        raise NotImplementedError(f'"cdist" not implemented for \'{torch_name(a)}\'')
    if a != b:
        raise RuntimeError(f"expected scalar type {torch_name(a)} but found {torch_name(b)}")
