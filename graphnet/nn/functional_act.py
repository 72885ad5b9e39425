"""The less common activations (`F.mish`, `F.selu`, `F.glu`, `F.softshrink` ...), each
composed from ops already in the op table, so every one works eagerly, traced and under
autograd without a kernel of its own. Re-exported by `graphnet.nn.functional`.

    >>> F.hardswish(graphnet.tensor([-4.0, 0.0, 1.0]))   # [-0., 0., 0.6667]
"""

from __future__ import annotations

from .. import _factories as fac
from .. import _layout as L
from .. import _math as M
from .._dispatch import dispatch
from .._grad_fn_names import renamed
from .._shape_more import wrap_dim
from .._tensor import Tensor

__all__ = [
    "mish", "hardswish", "hardsigmoid", "selu", "celu", "glu", "softsign", "tanhshrink",
    "threshold", "softmin", "hardshrink", "softshrink", "logsigmoid", "rrelu",
]

# NOTE: the constants of Klambauer et al. (2017) to the digits PyTorch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return input._assign(result) if inplace else result


def _named(result: Tensor, torch_name: str, made_by: str, inplace: bool = False) -> Tensor:
    """`result` with PyTorch's node name: these functions are single kernels in PyTorch
    (F.mish is MishBackward0, not the MulBackward0 of graphnet's last op); an in-place
    call of some records the in-place overload (F.selu(x, inplace=True): EluBackward1)."""
    if inplace and torch_name in _IN_PLACE_OVERLOAD:
        torch_name = torch_name[:-1] + "1"
    return renamed(result, torch_name, made_by)


_IN_PLACE_OVERLOAD = {"EluBackward0", "CeluBackward0", "ThresholdBackward0",
                      "RreluWithNoiseBackward0"}


def _softplus(input: Tensor) -> Tensor:
    return dispatch("softplus", input, beta=1.0, threshold=20.0)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _maybe_inplace(input, _named(input * M.tanh(_softplus(input)), "MishBackward0",
                                        "mul"), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    # NOTE: exactly 1 from 3 up, selected: XLA computes `/ 6` as `* (1/6)`, and a compiled
    # `1 - hardsigmoid(x)` fused that into one FMA, -3e-08 at saturation (a NaN under sqrt)
    out = M.where(input >= 3.0, 1.0, dispatch("relu6", input + 3.0) / 6.0)
    # NOTE: a NaN stays NaN with gradient 0, as PyTorch's backward passes it only inside (-3, 3)
    out = M.where(M.isnan(input), out.detach(), out)
    return _maybe_inplace(input, _named(out, "HardsigmoidBackward0", "where"), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * hardsigmoid(x)."""
    # NOTE: a NaN takes PyTorch's last branch (x, slope 1): the product is of a NaN-free copy,
    # or its slope, NaN, reached the input through a `where` mask
    safe = M.where(M.isnan(input), 0.0, input)
    out = M.where(input <= 3.0, safe * dispatch("relu6", safe + 3.0) / 6.0, input)   # torch's order
    # NOTE: a where, not the product alone: below -3 PyTorch's backward selects 0, where the
    # product's is 0 * the incoming gradient (NaN for an inf one: sqrt(abs(hardswish(-5))))
    return _maybe_inplace(input, _named(M.where(input < -3.0, out.detach(), out),
                                        "HardswishBackward0", "where"), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the fixed self-normalising constants."""
    return _maybe_inplace(input, _named(dispatch("elu", input, alpha=SELU_ALPHA) * SELU_SCALE,
                                        "EluBackward0", "mul", inplace), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), which is alpha * elu(x / alpha)."""
    if alpha == 0:   # PyTorch's RuntimeError, with its words
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    alpha = float(alpha)
    return _maybe_inplace(input, _named(dispatch("elu", input / alpha, alpha=1.0) * alpha,
                                        "CeluBackward0", "mul", inplace), inplace)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of `input` along `dim`."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[wrap_dim(dim, input.ndim)]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    a, b = L.chunk(input, 2, dim)
    return _named(a * M.sigmoid(b), "GluBackward0", "mul")


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (M.abs(input) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - M.tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else `value` (the gradient there is 0)."""
    return _maybe_inplace(input, _named(M.masked_fill(input, input <= threshold, value),
                                        "ThresholdBackward0", "where", inplace), inplace)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """softmax(-x) along `dim`."""
    from .functional import _implicit_dim   # NOTE: functional imports this module

    return M.softmax(-input, _implicit_dim("softmin", input, dim, _stacklevel), dtype)


_DTYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
                "bfloat16": "BFloat16"}


def _checked_lambd(input: Tensor, lambd):
    """softshrink's `lambd` after PyTorch's check: one number in [0, the largest value of
    the input's dtype]. A tensor is checked where the op table checks values (eagerly, or
    inside a compiled program for one the traced code computes)."""
    from .._ops.checked import shrink_lambd_message
    from .._settings import finfo

    if not input.dtype.is_floating_point:
        return lambd   # the kernel's own error names the dtype
    limit = float(finfo(input.dtype).max)
    name = _DTYPE_NAMES.get(input.dtype.name, input.dtype.name)
    if isinstance(lambd, Tensor):
        if lambd.numel() != 1:
            raise TypeError("softshrink(): argument 'lambd' (position 2) must be Number, "
                            "not Tensor")
        return dispatch("checked_shrink_lambd", lambd, limit=limit, dtype_name=name)
    if not 0 <= lambd <= limit:   # NaN too
        raise RuntimeError(shrink_lambd_message(float(lambd), limit, name))
    return lambd


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0 (a negative lambd keeps every x, as in PyTorch, which
    checks softshrink's lambd only)."""
    return _named(M.masked_fill(input, M.abs(input) <= lambd, 0.0), "HardshrinkBackward0",
                  "where")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between: x - clamp(x, -lambd, lambd)."""
    lambd = _checked_lambd(input, lambd)
    shrunk = input - M.clamp(input, -lambd, lambd)
    # NOTE: inside [-lambd, lambd] PyTorch's backward selects 0; the difference's is inf - inf
    # (NaN) for an inf incoming gradient (1 / softshrink(x) at 0)
    return _named(M.where(M.abs(input) <= lambd, shrunk.detach(), shrunk),
                  "SoftshrinkBackward0", "where")


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x); softplus's large-input branch keeps it finite."""
    return _named(-_softplus(-input), "LogSigmoidBackward0", "neg")


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random negative slope: drawn from U(lower, upper) per element while
    training, the fixed mean (lower + upper) / 2 in eval."""
    if lower > upper:   # swapped bounds computed silently before
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        out = dispatch("leaky_relu", input, negative_slope=(lower + upper) / 2.0)
    else:
        slope = fac.rand_like(input) * (upper - lower) + lower
        out = M.where(input > 0, input, input * slope)
    # PyTorch's rrelu is rrelu_with_noise, in training and eval alike
    out = _named(out, "RreluWithNoiseBackward0", "leaky_relu" if not training else "where",
                 inplace)
    return _maybe_inplace(input, out, inplace)
