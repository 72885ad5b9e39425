"""Pointwise functions with PyTorch's extra arguments (polygamma, logit, nan_to_num, lerp,
addcmul, isclose ...), PyTorch's aliases (absolute, divide, multiply, not_equal ...), the
bitwise operators, and the in-place forms: `Tensor.X_` for every op PyTorch has one for, and
the top-level `graphnet.X_(t)` functions (`torch.relu_(x)`).

The plain ones (asin, hypot, bitwise_and ...) are generated from their op-table entries
(graphnet/_ops/pointwise_extra.py); these are the ones whose signature is not `(input)` or
`(input, other)`.

>>> import graphnet as torch
>>> torch.lerp(torch.zeros(2), torch.ones(2), 0.25)
tensor([0.2500, 0.2500])
"""

from __future__ import annotations


from ._overlap import inplace as _inplace
from ._arith_checks import check_scalar_fits, integral_scalar
from . import _dtype as dt
from . import _math as M
from ._dispatch import dispatch
from ._dtype_methods import result_type
from ._math_alpha import scalar_first
from ._grad_fn_names import renamed
from ._ops._promote import cpp_name, not_implemented
from ._tensor import Tensor
from .return_types import return_type

_Frexp = return_type("frexp", ["mantissa", "exponent"])


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else M._factories.tensor(x)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The `n`-th derivative of the digamma function (`n=0`: digamma itself)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return dispatch("polygamma", input, n=int(n))


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension `p`; every element must be greater
    than (p - 1) / 2 (RuntimeError otherwise, as in PyTorch)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return dispatch("mvlgamma", input, p=int(p))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)); with `eps`, `input` is first clamped to [eps, 1 - eps]."""
    return dispatch("logit", input, eps=None if eps is None else float(eps))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0 and the
    dtype's largest and smallest finite values). Integer tensors come back unchanged."""
    def num(v):
        return None if v is None else float(v)

    return dispatch("nan_to_num", input, nan=float(nan), posinf=num(posinf), neginf=num(neginf))


def frexp(input: Tensor):
    """`(mantissa, exponent)` with `input == mantissa * 2 ** exponent`, |mantissa| in
    [0.5, 1); exponent is int32."""
    return _Frexp(*dispatch("frexp", input))


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """`input + weight * (end - input)`, with a scalar or tensor `weight` (PyTorch's formula,
    exact at weight 0 and 1)."""
    if isinstance(end, Tensor) and end.dtype != input.dtype:
        raise RuntimeError(f"expected dtype {cpp_name(input.dtype)} for `end` but got dtype "
                           f"{cpp_name(end.dtype)}")
    if isinstance(weight, Tensor) and weight.dtype != input.dtype:
        if weight.dim() != 0:      # a 0-d weight of another dtype is a number to PyTorch
            raise RuntimeError(f"expected dtype {cpp_name(input.dtype)} for `weight` but got "
                               f"dtype {cpp_name(weight.dtype)}")
        weight = weight.to(input.dtype)
    if not input.dtype.is_floating_point:
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise not_implemented(kernel, input.dtype)
    check_scalar_fits(weight, input.dtype, opmath=True)   # float32 lerp(a, b, 1e40) gave inf
    if input.dtype.name in ("float16", "bfloat16") and isinstance(end, Tensor):
        # PyTorch's half kernel reads weight and ends in float32 and rounds once; JAX made
        # the weight half (70000 became inf, and lerp(a, a, 70000) NaN instead of a)
        wide = [t.to(dt.float32) if isinstance(t, Tensor) else t for t in (input, end, weight)]
        return dispatch("lerp", *wide).to(input.dtype)
    return dispatch("lerp", input, end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *rest, value=1) -> Tensor:
    """`input + value * tensor1 * tensor2` (optimizers' running averages)."""
    if rest:   # `v.addcmul_(0.5, g, g)`: PyTorch's deprecated form
        (tensor1, tensor2), value = scalar_first("addcmul", (tensor1, tensor2, *rest), "value")
    if all(isinstance(t, Tensor) and t.dtype.name == "bool" for t in (input, tensor1, tensor2)):
        raise not_implemented("addcmul_cpu_out", "bool")
    half = _half_of(input, tensor1, tensor2)
    if half is not None:   # in float32, rounded once, as PyTorch's kernel (its
        # `value` is not rounded to half, unlike add's alpha: measured, 0 of 2000 differ)
        check_scalar_fits(value, half, opmath=True)
        wide = [t.to(dt.float32) for t in (input, tensor1, tensor2)]
        return renamed(M.add(wide[0], M.mul(wide[1], wide[2]) * value).to(half),
                       "AddcmulBackward0", "cast")
    product = M.mul(tensor1, tensor2)
    # PyTorch reads `value` in the result dtype: an int8 addcmul with value=2.7 scales by 2
    # and stays int8 (graphnet made it float32); 300 is refused there
    value = integral_scalar(value, result_type(input, product), opmath=True)
    return renamed(M.add(input, product if _is_number(value, 1) else M.mul(product, value)),
                   "AddcmulBackward0", "add", "cast")


def _is_number(value, number) -> bool:
    """`value` is the Python number `number`. NOTE: a 0-d tensor `value` (a step size kept as
    a tensor) is never compared: traced, `value == 1` asked bool() of a traced tensor."""
    return not isinstance(value, Tensor) and value == number


def _half_of(*tensors):
    """float16 or bfloat16 when every argument is a tensor of that one dtype, else None."""
    if all(isinstance(t, Tensor) for t in tensors) and \
            len({t.dtype for t in tensors}) == 1 and tensors[0].dtype.name in ("float16",
                                                                               "bfloat16"):
        return tensors[0].dtype
    return None


def _rounded(number, half) -> float:
    """`number` rounded to `half` (PyTorch's scalar cast), as a Python float."""
    import ml_dtypes   # NOTE: JAX's own dependency
    import numpy as np

    with np.errstate(over="ignore"):   # past the type's range: inf, as PyTorch's cast
        return float((ml_dtypes.bfloat16 if half.name == "bfloat16" else np.float16)(number))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *rest, value=1) -> Tensor:
    """`input + value * tensor1 / tensor2` (Adam's update)."""
    if rest:
        (tensor1, tensor2), value = scalar_first("addcdiv", (tensor1, tensor2, *rest), "value")
    if not M._is_float(_tensor(tensor1)) and not M._is_float(_tensor(tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
                           "for integer inputs and as (input + value * tensor1 / tensor2) for "
                           "float inputs.")
    half = _half_of(input, tensor1, tensor2)
    if half is not None:   # in float32, rounded once, as addcmul
        check_scalar_fits(value, half, opmath=True)
        wide = [t.to(dt.float32) for t in (input, tensor1, tensor2)]
        return renamed(M.add(wide[0], M.div(wide[1], wide[2]) * value).to(half),
                       "AddcdivBackward0", "cast")
    quotient = M.div(tensor1, tensor2)
    check_scalar_fits(value, result_type(input, quotient), opmath=True)
    return renamed(M.add(input, quotient if _is_number(value, 1) else M.mul(quotient, value)),
                   "AddcdivBackward0", "add", "cast")


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Elementwise `round` (op `round` in the op table): halves to even, at `decimals` decimal
    places (negative: to tens, hundreds ...), computed as PyTorch does, in the input's dtype
    (float32 for float16/bfloat16): round(x * 10**decimals) / 10**decimals."""
    if decimals == 0:
        return dispatch("round", input)
    if not M._is_float(input):
        raise not_implemented("round_cpu", input.dtype)
    if input.dtype.name in ("float16", "bfloat16"):
        # NOTE: PyTorch scales a half input in float32 and rounds the result once; scaled in
        # half, 100.5 * 1000 overflowed float16 to inf
        return round(input.to(dt.float32), decimals=decimals).to(input.dtype)
    scale = 10.0 ** abs(decimals)
    if decimals > 0:
        return M.div(dispatch("round", M.mul(input, scale)), scale)
    return M.mul(dispatch("round", M.div(input, scale)), scale)


def clamp_min(input: Tensor, min) -> Tensor:
    """`clamp(input, min=min)`, named as PyTorch's own clamp_min node."""
    return _one_bound(M.clamp(input, min=min), "ClampMin", min)


def clamp_max(input: Tensor, max) -> Tensor:
    """`clamp(input, max=max)`."""
    return _one_bound(M.clamp(input, max=max), "ClampMax", max)


def _one_bound(out: Tensor, name: str, bound) -> Tensor:
    overload = "1" if isinstance(bound, Tensor) else "0"
    return renamed(out, f"{name}Backward{overload}", "clamp", "where")


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise `|input - other| <= atol + rtol * |other|` (bool); infinities are close
    only to themselves, NaN to NaN only with `equal_nan`."""
    if isinstance(other, Tensor) and isinstance(input, Tensor) and other.dtype != input.dtype:
        raise RuntimeError(f"isclose(): {input.dtype} did not match {other.dtype}: compare "
                           f"tensors of one dtype (convert one with .to(other.dtype))")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose(): rtol and atol must be non-negative, got rtol={rtol}, "
                           f"atol={atol}")
    return dispatch("isclose", input, other, rtol=float(rtol), atol=float(atol),
                    equal_nan=bool(equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element is `isclose` (a Python bool, so it reads the values: inside a
    compiled function use `isclose(...).all()` to keep it a tensor)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and elements (a Python bool)."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(M.eq(input, other).all())


def divide(input, other, *, rounding_mode=None):
    """Alias of `div`."""
    return M.div(input, other, rounding_mode=rounding_mode)


def true_divide(dividend, divisor):
    """Alias of `div` without rounding."""
    return M.div(dividend, divisor)


def subtract(input, other, *, alpha=1):
    """Alias of `sub`."""
    return M.sub(input, other, alpha=alpha)


def rsub(input, other, *, alpha=1):
    """`other - alpha * input`."""
    return renamed(M.sub(other, input, alpha=alpha), "RsubBackward0", "sub", "cast") \
        if isinstance(other, Tensor) else M.sub(other, input, alpha=alpha)


def fill(input: Tensor, value) -> Tensor:
    """A tensor like `input` filled with `value` (`input` unchanged)."""
    return M.mul(input, 0).add(value) if isinstance(value, Tensor) else \
        M._factories.full(tuple(input.shape), value, dtype=input.dtype)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of `input` that gradients flow through (`input.clone()`)."""
    del memory_format
    return input.clone()


def detach(input: Tensor) -> Tensor:
    """`input.detach()`."""
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    """`input.detach_()`."""
    return input.detach_()


def float_power_(self: Tensor, exponent) -> Tensor:
    """In place `float_power`: the result is float64, so `self` must be float64."""
    if self.dtype != M.dt.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_torch_name(self)} but "
                           f"the operation's result requires dtype Double")
    return self._assign(M.float_power(self, exponent))


def _torch_name(t: Tensor) -> str:
    from ._ops._promote import _TORCH_NAMES
    return _TORCH_NAMES.get(t.dtype.name, t.dtype.name)


def _invert(self: Tensor) -> Tensor:
    if self.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return M.bitwise_not(self)


def _method(fn):
    """A function whose first argument is not the tensor, as a method: polygamma(n, x)."""
    return lambda self, n: fn(n, self)


# NOTE: the bitwise operators are bitwise (int & int is int); on bool tensors they are the
# logical ones. `~x` on a float tensor raises, as in PyTorch.
_OPERATORS = {
    "__and__": M.bitwise_and, "__rand__": M.bitwise_and, "__or__": M.bitwise_or,
    "__ror__": M.bitwise_or, "__xor__": M.bitwise_xor, "__rxor__": M.bitwise_xor,
    "__invert__": _invert, "__pos__": M.positive, "__lshift__": M.bitwise_left_shift,
    "__rlshift__": lambda self, other: M.bitwise_left_shift(other, self),
    "__rshift__": M.bitwise_right_shift,
    "__rrshift__": lambda self, other: M.bitwise_right_shift(other, self),
    "__rmod__": lambda self, other: M.remainder(other, self),
}
_FUNCTIONS = {
    "polygamma": polygamma, "mvlgamma": mvlgamma, "logit": logit, "nan_to_num": nan_to_num,
    "frexp": frexp, "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "isclose": isclose, "allclose": allclose,
    "equal": equal, "divide": divide, "true_divide": true_divide, "subtract": subtract,
    "rsub": rsub, "round": round, "absolute": M.abs, "sgn": M.sign, "fix": M.trunc,
    "multiply": M.mul, "not_equal": M.ne, "arctan2": M.atan2, "fill": fill, "clone": clone,
    "detach": detach, "detach_": detach_,
}
_METHODS = {name: fn for name, fn in _FUNCTIONS.items()
            if name not in ("rsub", "fill", "clone", "detach", "detach_")}
_METHODS["polygamma"] = _method(polygamma)
_METHODS["float_power_"] = float_power_
_METHODS.update(_OPERATORS)

# Tensor.X_ for PyTorch's in-place methods in this family that the op table does not add
_INPLACE = ("absolute sgn fix trunc multiply divide true_divide subtract not_equal eq ne lt le "
            "gt ge less less_equal greater greater_equal logical_and logical_or logical_not "
            "floor_divide atan2 arctan2 polygamma mvlgamma logit nan_to_num lerp addcmul "
            "addcdiv clamp_min clamp_max round sin cos rsqrt erf log1p expm1 log2 exp2").split()
for _name in _INPLACE:
    _METHODS[_name + "_"] = _inplace(_METHODS.get(_name) or getattr(Tensor, _name))
for _op, _name in [("bitwise_and", "__iand__"), ("bitwise_or", "__ior__"),
                   ("bitwise_xor", "__ixor__"), ("bitwise_left_shift", "__ilshift__"),
                   ("bitwise_right_shift", "__irshift__"), ("floor_divide", "__ifloordiv__"),
                   ("remainder", "__imod__")]:
    _METHODS[_name] = _inplace(getattr(M, _op))

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)


def _top_level_inplace(name: str):
    def fn(input: Tensor, *args, **kwargs) -> Tensor:
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"`input.{name}(...)`: the in-place form, as a function."
    return fn


# torch.relu_(x) and friends: PyTorch's top-level in-place functions of this family
_TOP_LEVEL_INPLACE = (
    "abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ "
    "atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ erf_ erfc_ exp2_ exp_ "
    "expm1_ fix_ floor_ frac_ gcd_ i0_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_ "
    "nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ "
    "sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ fill_ zero_").split()
_INPLACE_FUNCTIONS = {name: _top_level_inplace(name) for name in _TOP_LEVEL_INPLACE}

__all__ = sorted(_FUNCTIONS) + sorted(_INPLACE_FUNCTIONS)
globals().update(_FUNCTIONS)   # the aliases (absolute, multiply ...) are module names too
globals().update(_INPLACE_FUNCTIONS)
