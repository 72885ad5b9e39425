"""A NumPy array as an operator's operand, as PyTorch 2.13 treats one.

PyTorch's operators do not take an ndarray themselves: `t + a` falls to NumPy's reflected
operator, which reads the tensor as an array (`Tensor.__array__`), computes with NumPy's
rules and wraps the result back into a tensor (`Tensor.__array_wrap__`). So:

- `t + a`, `t - a`, `t * a`, `t / a`, `t // a`, `t % a`, `t ** a`, `t @ a`, `t & a`, `t | a`,
  `t ^ a`, `t << a`, `t >> a` give a tensor of NumPy's result dtype (float32 tensor +
  float64 array: float64; a 0-d array counts as an array), a bool result as uint8, with no
  grad_fn; a tensor that requires grad (grad mode on) raises NumPy's RuntimeError, bfloat16
  a TypeError. An integer division by zero gives 0, as NumPy's does.
- `a / t` is `t.reciprocal() * a` (PyTorch's `__rtruediv__`), so the same.
- `t == a` and `a == t` compare elementwise as tensors (PyTorch's `__eq__` converts `a`);
  `t != a` is Python's identity fallback (True); `<`, `<=`, `>`, `>=` and the other reflected
  operators (`a + t`, `a * t` ...) raise TypeError; `x += a` rebinds `x` to `x + a`.
- functions (`torch.add(t, a)`, `t.add(a)`, `torch.where(c, t, a)`) refuse the array:
  graphnet/_dispatch.py `non_tensor_error`.

graphnet computes the same result with its own kernels on tensors cast to NumPy's loop
dtypes, so it also runs inside graphnet.compile, where the array is a constant of the graph.
"""

from __future__ import annotations

import jax
import numpy as np

from . import _autograd
from . import _dtype as dt

_FORWARD = {   # operator -> (graphnet function, NumPy ufunc)
    "__add__": ("add", np.add), "__sub__": ("sub", np.subtract),
    "__mul__": ("mul", np.multiply), "__truediv__": ("div", np.true_divide),
    "__floordiv__": ("floor_divide", np.floor_divide), "__mod__": ("remainder", np.remainder),
    "__pow__": ("pow", np.power), "__matmul__": ("matmul", np.matmul),
    "__and__": ("bitwise_and", np.bitwise_and), "__or__": ("bitwise_or", np.bitwise_or),
    "__xor__": ("bitwise_xor", np.bitwise_xor),
    "__lshift__": ("bitwise_left_shift", np.left_shift),
    "__rshift__": ("bitwise_right_shift", np.right_shift),
}
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floor_divide": "//",
            "remainder": "%", "pow": "**", "matmul": "@", "bitwise_and": "&", "bitwise_or": "|",
            "bitwise_xor": "^", "bitwise_left_shift": "<<", "bitwise_right_shift": ">>"}
# NotImplemented for an array, so Python raises its TypeError (or, for `!=`, falls back to
# identity) and an in-place operator falls back to the plain one, as with PyTorch.
_DEFERRING = ("__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__radd__", "__rsub__",
              "__rmul__", "__rfloordiv__", "__rmod__", "__rpow__", "__rmatmul__", "__rand__",
              "__ror__", "__rxor__", "__rlshift__", "__rrshift__", "__iadd__", "__isub__",
              "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__",
              "__imatmul__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__")


def _exported(tensor) -> np.dtype:
    """The dtype NumPy sees for `tensor`, or PyTorch's error where `Tensor.__array__` fails."""
    if tensor.requires_grad and _autograd.is_grad_enabled():
        raise RuntimeError(
            "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
            "instead. (An operator with a NumPy array operand computes as NumPy does, as in "
            "PyTorch, so no gradient could flow back: write `t + graphnet.as_tensor(array)` "
            "to keep the graph.)")
    if tensor.dtype.name == "bfloat16":
        raise TypeError("Got unsupported ScalarType BFloat16 (NumPy has no bfloat16: convert "
                        "the tensor with .float() before combining it with a NumPy array)")
    return np.dtype(tensor.dtype.np)


def _constant(array: np.ndarray, np_dtype):
    """`array` as a tensor of `np_dtype` (a constant of the graph when traced)."""
    from . import _factories

    return _factories.tensor(np.asarray(array, dtype=np_dtype))


def array_operand(op: str, ufunc, tensor, array: np.ndarray):
    """`tensor <op> array` with NumPy's dtypes: see the module docstring."""
    from . import _math as M

    in0, in1, out = ufunc.resolve_dtypes((_exported(tensor), array.dtype, None))
    for np_dtype in (in0, in1, out):
        if not dt.known_np(np_dtype):   # complex64, uint16 ...
            raise TypeError(f"{tensor.dtype} tensor {_SYMBOLS.get(op, op)} NumPy array of "
                            f"dtype {array.dtype}: NumPy computes it in {np_dtype}, which "
                            f"graphnet has no dtype for (it has {dt.supported_names()})")
    if op == "pow" and in1.kind in "iu" and in0.kind in "iu" and (array < 0).any():
        raise ValueError("Integers to negative integer powers are not allowed.")
    zero_divisors = None
    if op in ("floor_divide", "remainder") and in1.kind in "iub" and (array == 0).any():
        zero_divisors = array == 0          # NumPy: 0 there, where graphnet's op would refuse
        array = np.where(zero_divisors, np.ones((), array.dtype), array)
    left = tensor if tensor.dtype.np == in0 else tensor.to(dt.from_np(in0))
    result = getattr(M, op)(left, _constant(array, in1))
    if zero_divisors is not None:
        result = M.masked_fill(result, _constant(zero_divisors, np.bool_), 0)
    if result.dtype.np != out:
        result = result.to(dt.from_np(out))
    if out == np.bool_:   # PyTorch's __array_wrap__ turns a bool array into uint8
        result = result.to(dt.uint8)
    return result


# NotImplemented for anything but a tensor or a number, as PyTorch returns: `(slice(None),) *
# dim` with a 0-d integer tensor `dim` repeats the tuple (through `__index__`), a class's own
# `__rmul__` runs for `t * obj`, and `t + None` or `t + (1,)` is Python's TypeError (a
# ShapeError or an AttributeError before).
_OPERANDS = (int, float, complex, np.generic)


def _foreign(other) -> bool:
    return not isinstance(other, _OPERANDS) and not hasattr(other, "_value")


def _forward(fn, op: str, ufunc):
    def method(self, other):
        if isinstance(other, np.ndarray):
            return array_operand(op, ufunc, self, other)
        if _foreign(other):
            return NotImplemented
        return fn(self, other)

    method.__name__ = method.__qualname__ = getattr(fn, "__name__", op)
    method.__doc__ = fn.__doc__
    return method


def _deferring(fn):
    def method(self, other):
        if isinstance(other, np.ndarray) or _foreign(other):
            return NotImplemented
        return fn(self, other)

    method.__name__ = method.__qualname__ = getattr(fn, "__name__", "operator")
    method.__doc__ = fn.__doc__
    return method


def _equal(fn, tensor_class, arrays: bool = True):
    """`__eq__` (or, `arrays` False, `__ne__`, which PyTorch leaves to NumPy for an array:
    `t != array` is True, by identity, while `t == array` compares elements)."""
    def __eq__(self, other):
        if isinstance(other, np.ndarray) and not arrays:
            return NotImplemented
        if isinstance(other, np.ndarray):
            if other.dtype.kind in "OSUV":   # not numbers: PyTorch's __eq__ gives up too
                return NotImplemented
            from . import _factories

            return fn(self, _factories.tensor(other))
        if not isinstance(other, (tensor_class, int, float, complex, np.generic, jax.Array)):
            # NOTE: PyTorch's `t == None`, `t == "a"`, `t == [1.0]` are False (and `!=` True):
            # its TypeError becomes NotImplemented, and Python compares identities. Raising
            # here broke `if mask == None:` and `t in [None, ...]`.
            return NotImplemented
        return fn(self, other)

    __eq__.__name__ = __eq__.__qualname__ = getattr(fn, "__name__", "__eq__")
    __eq__.__doc__ = fn.__doc__
    return __eq__


def _reciprocal_times(fn):
    def __rtruediv__(self, other):
        if isinstance(other, np.ndarray):   # PyTorch: self.reciprocal() * other
            return array_operand("mul", np.multiply, self.reciprocal(), other)
        return fn(self, other)

    __rtruediv__.__doc__ = fn.__doc__
    return __rtruediv__


def install_operators(tensor_class) -> None:
    """Wrap the Tensor operators bound so far (graphnet/_methods.py and others). Idempotent."""
    if getattr(tensor_class, "_numpy_operands", False):
        return
    names = vars(tensor_class)
    for name, (op, ufunc) in _FORWARD.items():
        setattr(tensor_class, name, _forward(names[name], op, ufunc))
    for name in _DEFERRING:
        if name in names and name != "__ne__":
            setattr(tensor_class, name, _deferring(names[name]))
    tensor_class.__eq__ = _equal(names["__eq__"], tensor_class)
    tensor_class.__ne__ = _equal(names["__ne__"], tensor_class, arrays=False)
    tensor_class.__rtruediv__ = _reciprocal_times(names["__rtruediv__"])
    tensor_class._numpy_operands = True
