"""add/sub's `alpha`: `input + alpha * other` computed as PyTorch's kernel reads alpha, in the
result's dtype (graphnet.add, graphnet.sub and their in-place forms call `scaled`)."""

from __future__ import annotations

import functools

from . import _dtype as dt
from ._arith_checks import check_alpha_fits
from ._binary_rules import _binary
from ._tensor import Tensor


def scaled(name: str, input, other, alpha):
    """`input + alpha * other` (or minus). A float16/bfloat16 result is computed in float32
    and rounded once, as PyTorch's kernel does: rounding `alpha * other` to half first was
    1 ulp off for 5-15% of elements (every half-precision `p.add_(g, alpha=-lr)`). The
    number alpha is rounded to half first, as PyTorch does, and so is an `other` that is a
    number or a 0-d tensor (it takes the half tensor's dtype in PyTorch's promotion):
    `p.add_(0.1234567, alpha=0.333)` was 1 ulp off in a third of bfloat16 elements."""
    if not isinstance(alpha, Tensor) and alpha == 1:   # a 0-d tensor lr: no bool() of it
        return _binary(name, input, other)
    check_alpha_fits(name, input, other, alpha)
    half = _half_result(input, other)
    if half is None:
        return _binary(name, input, _times_alpha(input, other, alpha))
    from ._math_pointwise import _rounded   # NOTE: it builds on _math, which imports this

    rounded = _rounded(alpha, half)
    if not isinstance(other, Tensor):
        other = _rounded(other, half)   # a number joins the half tensor's dtype first
    elif other.dim() == 0 and other.dtype != half and isinstance(input, Tensor) \
            and input.dim() > 0:
        other = other.to(half)          # so does a 0-d tensor of another float type
    wide = [x.to(dt.float32) if isinstance(x, Tensor) else x for x in (input, other)]
    return _binary(name, wide[0], wide[1] * rounded).to(half)


def _times_alpha(input, other, alpha):
    """`alpha * other` as PyTorch reads alpha, in the result's dtype: two bool tensors give
    bool, alpha taken as True or False (`other * 2` was int64, so `add(b, b, alpha=2)` gave
    [3, 0] where torch gives [True, False]); otherwise `other` joins the result's dtype
    first (a bool or int32 `other` times a Python int was int64, and so was the sum)."""
    if not isinstance(other, Tensor):
        return other * alpha
    from ._dtype_methods import result_type   # NOTE: it builds on _math

    kind = result_type(input, other)
    if kind is dt.bool_:
        return other if alpha else other & False
    return (other if other.dtype is kind else other.to(kind)) * alpha


def _half_result(input, other):
    """The dtype of `input op other` when it is float16 or bfloat16, else None."""
    from ._dtype_methods import result_type   # NOTE: it builds on _math

    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        return None
    kind = result_type(input, other)
    return kind if kind.name in ("float16", "bfloat16") else None


_WARNED: set = set()


def scalar_first(name: str, args: tuple, keyword: str) -> tuple:
    """PyTorch's deprecated overloads with the scalar first, which it still takes with a
    warning: `p.add_(-lr, d)`, `torch.sub(a, 2, b)`, `v.addcmul_(0.5, g, g)`,
    `p.addcdiv_(-s, m, d)` (older optimizers: AdaBound, the original RAdam). `args`: the
    positional arguments after `input`. Returns (the tensors, the scalar)."""
    if isinstance(args[0], Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments: "
                        f"{len(args)} positional arguments after the input")
    if name not in _WARNED:    # once per process, as PyTorch's TORCH_WARN_ONCE
        _WARNED.add(name)
        import warnings

        current = "Tensor other, *, Number alpha = 1" if keyword == "alpha" else \
            "Tensor tensor1, Tensor tensor2, *, Number value = 1"
        warnings.warn(f"This overload of {name} is deprecated:\n\t{name}(Number {keyword}, "
                      f"...)\nConsider using one of the following signatures instead:\n\t"
                      f"{name}({current})", UserWarning, stacklevel=3)
    return args[1:], args[0]


def beta_alpha_first(fn):
    """`fn` (addmm, addbmm, baddbmm, addmv, addr) also taking PyTorch's deprecated overloads
    with the scalars first, which it still runs with a warning: `M.addmm_(1, -2, x, y.t())`
    (beta, alpha: re-ID code's pairwise distances), `M.addmm(0.5, a, b)` (beta),
    `torch.addmm(1, M, -2, a, b)`."""
    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, Tensor)

    @functools.wraps(fn)
    def call(input, *args, **kwargs):
        if not (number(input) or args and number(args[0])):
            return fn(input, *args, **kwargs)
        scalars = []
        if number(input):                      # the function form: (beta, input, alpha, ...)
            scalars.append(input)
            input, args = args[0], args[1:]
        while args and number(args[0]) and len(scalars) < 2:
            scalars.append(args[0])
            args = args[1:]
        name = fn.__name__
        if name not in _WARNED:
            _WARNED.add(name)
            import warnings

            shown = ", ".join(["Number beta", "Number alpha"][:len(scalars)])
            warnings.warn(f"This overload of {name} is deprecated:\n\t{name}({shown}, ...)\n"
                          f"Consider using the signature with keywords instead:\n\t{name}(Tensor, "
                          f"Tensor, *, Number beta = 1, Number alpha = 1)", UserWarning,
                          stacklevel=2)
        kwargs.update(zip(("beta", "alpha"), scalars))
        return fn(input, *args, **kwargs)

    return call
