"""`torch.special`'s Airy and Bessel functions and its classical orthogonal polynomials:
`airy_ai`, `bessel_j0` ... `scaled_modified_bessel_k1`, `chebyshev_polynomial_t` ...
`legendre_polynomial_p`. Re-exported by graphnet/special.py; the kernels are in
graphnet/_ops/special_bessel.py and graphnet/_ops/special_polynomials.py.

As in PyTorch, none of them has a derivative (their results require no grad), integer and
bool input computes in the default float dtype, float16 and bfloat16 raise
NotImplementedError, and each takes `out=`. A polynomial's degree `n` may be a tensor
(broadcast against `x`) or a number; `x` may be a number when `n` is a tensor."""

from __future__ import annotations

import inspect

import numpy as np

from . import _dtype as dt
from . import _ops  # noqa: F401  (registers the kernels)
from ._default_dtype import default_float
from ._dispatch import dispatch
from ._dtype_methods import result_type
from ._ops._promote import not_implemented
from ._out_argument import with_out
from ._tensor import Tensor

# PyTorch's keyword for the tensor argument: `x` for these, `input` for the rest
_TAKES_X = ("airy_ai", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1")

_NUMBERS = (bool, int, float)


def _type_name(value) -> str:
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _unary(name: str, description: str):
    param = "x" if name in _TAKES_X else "input"
    signature = inspect.Signature(
        [inspect.Parameter(param, inspect.Parameter.POSITIONAL_OR_KEYWORD)])

    def fn(*args, **kwargs) -> Tensor:
        value = signature.bind(*args, **kwargs).arguments[param]
        if not isinstance(value, Tensor):
            raise TypeError(f"special_{name}(): argument '{param}' (position 1) must be Tensor, "
                            f"not {_type_name(value)}")
        return dispatch(f"special_{name}", value)

    fn.__signature__ = signature
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"`torch.special.{name}({param})`: {description}, elementwise. No gradient.\n\n"
                  f"    >>> graphnet.special.{name}(graphnet.tensor([0.5, 1.0, 2.0]))")
    return with_out(fn, name, f"special.{name}")


def _operand(value):
    """A NumPy number as the Python number it holds, as PyTorch reads it."""
    return value.item() if isinstance(value, (np.floating, np.integer, np.bool_)) else value


def _promoted(name: str, x, n) -> tuple:
    """x and n in PyTorch's common dtype for them (integers and bools compute in the default
    float dtype); a number stays a number. Raises PyTorch's errors for bad operands."""
    x, n = _operand(x), _operand(n)
    kinds = (isinstance(x, Tensor), isinstance(n, Tensor))
    if not any(kinds) or not all(k or isinstance(v, _NUMBERS) for k, v in zip(kinds, (x, n))):
        raise TypeError(
            f"special_{name}() received an invalid combination of arguments - got "
            f"({_type_name(x)}, {_type_name(n)}), but expected one of:\n"
            f" * (Tensor x, Tensor n, *, Tensor out = None)\n"
            f" * (Number x, Tensor n, *, Tensor out = None)\n"
            f" * (Tensor x, Number n, *, Tensor out = None)\n")
    dtype = result_type(x, n)
    if not dtype.is_floating_point:
        dtype = default_float()
    if dtype in (dt.float16, getattr(dt, "bfloat16", dt.float16)):
        raise not_implemented(f"{name}_cpu", dtype)
    return tuple(v.to(dtype) if isinstance(v, Tensor) and v.dtype != dtype else v
                 for v in (x, n))


def _polynomial(name: str, description: str):
    def fn(x, n) -> Tensor:
        return dispatch(f"special_{name}", *_promoted(name, x, n))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"`torch.special.{name}(x, n)`: {description}, for a tensor x and a degree n "
                  f"(a tensor broadcast against x, or a number; it is truncated to an integer, "
                  f"and a negative degree gives 0). No gradient.\n\n"
                  f"    >>> graphnet.special.{name}(graphnet.tensor([0.5, 2.0]), 3)")
    return with_out(fn, name, f"special.{name}")


airy_ai = _unary("airy_ai", "the Airy function Ai")
bessel_j0 = _unary("bessel_j0", "the Bessel function J0 of the first kind")
bessel_j1 = _unary("bessel_j1", "the Bessel function J1 of the first kind")
bessel_y0 = _unary("bessel_y0", "the Bessel function Y0 of the second kind (NaN for x < 0)")
bessel_y1 = _unary("bessel_y1", "the Bessel function Y1 of the second kind (NaN for x < 0)")
modified_bessel_i0 = _unary("modified_bessel_i0", "the modified Bessel function I0")
modified_bessel_i1 = _unary("modified_bessel_i1", "the modified Bessel function I1")
modified_bessel_k0 = _unary("modified_bessel_k0", "the modified Bessel function K0 (NaN for x < 0)")
modified_bessel_k1 = _unary("modified_bessel_k1", "the modified Bessel function K1 (NaN for x < 0)")
scaled_modified_bessel_k0 = _unary("scaled_modified_bessel_k0", "exp(x) K0(x)")
scaled_modified_bessel_k1 = _unary("scaled_modified_bessel_k1", "exp(x) K1(x)")

chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t",
                                     "the Chebyshev polynomial of the first kind T_n")
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u",
                                     "the Chebyshev polynomial of the second kind U_n")
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v",
                                     "the Chebyshev polynomial of the third kind V_n")
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w",
                                     "the Chebyshev polynomial of the fourth kind W_n")
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t",
                                             "T_n(2x - 1), the shifted Chebyshev polynomial T*_n")
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u",
                                             "U_n(2x - 1), the shifted Chebyshev polynomial U*_n")
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v",
                                             "V_n(2x - 1), the shifted Chebyshev polynomial V*_n")
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w",
                                             "W_n(2x - 1), the shifted Chebyshev polynomial W*_n")
hermite_polynomial_h = _polynomial("hermite_polynomial_h",
                                   "the physicists' Hermite polynomial H_n (NaN past n = 128 in "
                                   "float32, 512 in float64)")
hermite_polynomial_he = _polynomial("hermite_polynomial_he",
                                    "the probabilists' Hermite polynomial He_n (NaN past n = 128 "
                                    "in float32, 512 in float64)")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", "the Laguerre polynomial L_n")
legendre_polynomial_p = _polynomial("legendre_polynomial_p", "the Legendre polynomial P_n")

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
    "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
]
