"""PyTorch's `_foreach_*` functions: one op over a list of tensors.

PyTorch runs them as fused multi-tensor kernels; EMA helpers (`torch._foreach_lerp_(ema,
params, 1 - decay)`), gradient clipping and hand-written optimizers call them directly. Here
each is the per-tensor op in a loop, so it records autograd, traces and compiles as the ops
do (inside a compiled step XLA fuses them anyway). The other operand may be a number, a list
of numbers, a list of tensors or one tensor, as PyTorch's overloads take; lists must match
in length, with PyTorch's errors. In-place forms return the list they were given,
out-of-place forms a tuple."""

from __future__ import annotations

from ._tensor import Tensor

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
          "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "clamp_max", "clamp_min", "pow")


def _check(tensors, name: str) -> list:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("Tensor list must have at least one tensor.")
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"_foreach_{name}(): expected a list of tensors")
    return tensors


def _per_tensor(other, n: int) -> list:
    """`other` spread over `n` tensors: a number or one tensor for all, or a list of one
    each."""
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            if other and isinstance(other[0], Tensor):
                raise RuntimeError(f"Tensor lists must have the same number of tensors, got "
                                   f"{n} and {len(other)}")
            raise RuntimeError("Tensor list must have same number of elements as scalar list.")
        return list(other)
    return [other] * n


def _unary(name: str):
    def out_of_place(self):
        return tuple(getattr(t, name)() for t in _check(self, name))

    def in_place(self):
        tensors = _check(self, name + "_")
        for t in tensors:
            getattr(t, name + "_")()
        return self

    return out_of_place, in_place


def _binary(name: str):
    def _apply(method, self, other, alpha):
        tensors = _check(self, method)
        others = _per_tensor(other, len(tensors))
        extra = {} if alpha is None else {"alpha": alpha}
        return [getattr(t, method)(o, **extra) for t, o in zip(tensors, others)]

    def out_of_place(self, other, *, alpha=None):
        if name == "pow" and not isinstance(self, (list, tuple)):   # pow(number, tensors)
            from ._math import pow as power

            return tuple(power(self, t) for t in _check(other, name))
        return tuple(_apply(name, self, other, alpha))

    def in_place(self, other, *, alpha=None):
        _apply(name + "_", self, other, alpha)
        return self

    return out_of_place, in_place


def _lerp(self, tensors1, weight):
    tensors = _check(self, "lerp")
    ends, weights = _per_tensor(tensors1, len(tensors)), _per_tensor(weight, len(tensors))
    return tensors, ends, weights


def _read_as_number(t, w) -> bool:
    """One weight tensor for all is a number to PyTorch's foreach kernel, read in float32
    for half tensors (`lerp` rounds it to half first): SWA's `1 / (n_averaged + 1)`."""
    return isinstance(w, Tensor) and w.dim() == 0 and t.dtype.name in ("float16", "bfloat16")


def _lerp_one(t, e, w):
    if _read_as_number(t, w):
        return t.float().lerp(e.float(), w.float()).to(t.dtype)
    return t.lerp(e, w)


def _foreach_lerp(self, tensors1, weight):
    return tuple(_lerp_one(t, e, w) for t, e, w in zip(*_lerp(self, tensors1, weight)))


def _foreach_lerp_(self, tensors1, weight):
    for t, e, w in zip(*_lerp(self, tensors1, weight)):
        if _read_as_number(t, w):
            t.copy_(_lerp_one(t, e, w))
        else:
            t.lerp_(e, w)
    return self


def _scales(value, n: int) -> list:
    if isinstance(value, Tensor) and value.dim() == 1:   # one scale per tensor
        return [float(v) for v in value.tolist()]
    return _per_tensor(value, n)


def _addc(kind: str):
    def out_of_place(self, tensor1, tensor2, value=1):
        tensors = _check(self, kind)
        n = len(tensors)
        return tuple(getattr(t, kind)(a, b, value=v) for t, a, b, v in zip(
            tensors, _per_tensor(tensor1, n), _per_tensor(tensor2, n), _scales(value, n)))

    def in_place(self, tensor1, tensor2, value=1):
        tensors = _check(self, kind + "_")
        n = len(tensors)
        for t, a, b, v in zip(tensors, _per_tensor(tensor1, n), _per_tensor(tensor2, n),
                              _scales(value, n)):
            getattr(t, kind + "_")(a, b, value=v)
        return self

    return out_of_place, in_place


def _foreach_norm(self, ord=2, dtype=None):
    from .linalg import vector_norm

    return tuple(vector_norm(t, ord, dtype=dtype) for t in _check(self, "norm"))


def _foreach_powsum(self, ord=2, dtype=None):
    return tuple((t.to(dtype) if dtype is not None else t).abs().pow(ord).sum()
                 for t in _check(self, "powsum"))


def _foreach_max(self):
    return tuple(t.max() for t in _check(self, "max"))


def _foreach_mm(self, mat2):
    tensors = _check(self, "mm")
    return tuple(a.mm(b) for a, b in zip(tensors, _per_tensor(mat2, len(tensors))))


def _foreach_clone(self, *, memory_format=None):
    return tuple(t.clone() for t in _check(self, "clone"))


def _foreach_copy_(self, src, non_blocking=False):
    tensors = _check(self, "copy_")
    for t, s in zip(tensors, _per_tensor(src, len(tensors))):
        t.copy_(s)
    return self


def _foreach_zero_(self):
    for t in _check(self, "zero_"):
        t.zero_()
    return self


def functions() -> dict:
    """Every `_foreach_*` name and its function, for `graphnet/__init__.py`."""
    found = {name: value for name, value in globals().items() if name.startswith("_foreach_")}
    for name in _UNARY:
        found[f"_foreach_{name}"], found[f"_foreach_{name}_"] = _unary(name)
    for name in _BINARY:
        found[f"_foreach_{name}"], found[f"_foreach_{name}_"] = _binary(name)
    for kind in ("addcmul", "addcdiv"):
        found[f"_foreach_{kind}"], found[f"_foreach_{kind}_"] = _addc(kind)
    for name, fn in found.items():
        fn.__name__ = fn.__qualname__ = name
    return found
