"""Weight initialisation, in place and without recording grads (`nn.init.kaiming_uniform_`)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _factories as fac
from .._autograd import no_grad
from .._tensor import Tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    linear = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"]
    if nonlinearity in linear:
        return 1   # an int, as PyTorch's (it prints as 1)
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.dim() > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()   # "Fan_Out" works, as in PyTorch
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _floating_only(kernel: str, tensor: Tensor) -> None:
    """PyTorch's refusal of random values for an integer or bool tensor."""
    if not tensor.dtype.is_floating_point:
        from .._ops._promote import torch_name

        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{torch_name(tensor.dtype)}'")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    _floating_only("check_uniform_bounds", tensor)
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    _floating_only("normal_kernel_cpu", tensor)
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None) -> Tensor:
    """Normal(mean, std) restricted to [a, b]. Inverse-CDF sampling in float64, on the side
    of the mean where the window's CDF values are small (a window above the mean is sampled
    mirrored), so that far windows and the usual `std=0.02` inside [-2, 2] keep their
    precision: in float32, a uniform draw of exactly 0 became `erfinv(-1) = -inf`, clipped to
    `a` (a few weights of a large model at -2.0, 100 std out), and a window 9 std out gave
    `b` for every value. No loop and graphnet ops only, so it traces too."""
    from .. import _dtype as dt
    from ..special import ndtri

    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={a:g} > to={b:g}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    _floating_only("normal_kernel_cpu", tensor)
    std = abs(std)   # mean + std * z is the same distribution for -std (it filled `b` before)
    with no_grad():
        alpha, beta = (a - mean) / std, (b - mean) / std
        mirrored = alpha + beta > 0          # the window lies mostly above the mean
        if mirrored:
            alpha, beta = -beta, -alpha
        # NOTE: the window's CDF values in Python (they depend on numbers only): read from
        # arrays, they were host reads a compiled function could not make
        lo, hi = (0.5 * math.erfc(-x / math.sqrt(2.0)) for x in (alpha, beta))
        if hi == 0.0:     # beyond float64's normal CDF (about 37 std out)
            return tensor._assign(_far_window(tensor, mean, std, a, b, generator))
        u = fac.rand(tuple(tensor.shape), dtype=dt.float64, generator=generator)
        z = ndtri(lo + (hi - lo) * u).clamp(alpha, beta)
        values = (-z if mirrored else z) * std + mean
        return tensor._assign(values.clamp(a, b).to(tensor.dtype))


def _far_window(tensor: Tensor, mean, std, a, b, generator) -> Tensor:
    """trunc_normal_ of a window so far from the mean that float64 has no CDF for it:
    uniform proposals in [a, b] kept with probability pdf / pdf at the window's nearest
    point, as PyTorch samples far windows."""
    from .._math import where

    peak = max(a, min(mean, b))

    def draw():
        x = fac.rand(tuple(tensor.shape), dtype=tensor.dtype, generator=generator) * (b - a) + a
        keep = fac.rand(tuple(tensor.shape), generator=generator).log() <= \
            -0.5 * ((x - mean) / std) ** 2 + 0.5 * ((peak - mean) / std) ** 2
        return x, keep

    result, done = draw()
    while not bool(done.all()):
        x, keep = draw()
        result, done = where(done, result, x), done | keep
    return result.clamp(a, b)


def constant_(tensor: Tensor, val: float) -> Tensor:
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor._assign(fac.eye(*tensor.shape, dtype=tensor.dtype))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    shape = tuple(tensor.shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = shape[0] // groups
    array = np.zeros(shape, np.float32)
    centre = tuple(s // 2 for s in shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, shape[1])):
            array[(g * out_per_group + d, d) + centre] = 1
    with no_grad():
        return tensor._assign(fac.tensor(array, dtype=tensor.dtype))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    if _no_elements(tensor):
        return tensor
    fan = _fan(tensor, mode)   # the mode's error before the nonlinearity's, as PyTorch
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    if _no_elements(tensor):
        return tensor
    fan = _fan(tensor, mode)   # the mode's error before the nonlinearity's, as PyTorch
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def _no_elements(tensor: Tensor) -> bool:
    """PyTorch's kaiming initializers leave a zero-element tensor as it is, with a warning
    (the fan was 0: ZeroDivisionError)."""
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:     # no-op, as in PyTorch
        return tensor
    _floating_only("normal_kernel_cpu", tensor)
    from .. import _dtype as dt
    from ..linalg import qr

    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with no_grad():   # graphnet ops, not NumPy's QR: a compiled function can then run it
        flat = fac.randn(rows, cols, generator=generator).to(dt.float64)
        if rows < cols:
            flat = flat.t()
        q, r = qr(flat)
        q = q * r.diagonal().sign()
        if rows < cols:
            q = q.t()
        return tensor._assign((gain * q).reshape(tuple(tensor.shape)).to(tensor.dtype))


def bias_bound(weight: Tensor) -> float:
    """PyTorch's default bias init range for a layer whose weight is `weight`."""
    fan_in, _ = _calculate_fan_in_and_fan_out(weight)
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def register_weight_and_bias(module, weight_shape: tuple, bias: bool, dtype=None) -> None:
    """Give `module` a `weight` Parameter of `weight_shape` and a `bias` of weight_shape[0]
    (or a registered `None`), initialised with PyTorch's Linear/Conv default."""
    from .._tensor import Parameter

    module.weight = Parameter(fac.empty(*weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(fac.empty(weight_shape[0], dtype=dtype))
    else:
        module.register_parameter("bias", None)
    default_layer_init_(module.weight, module.bias)


def default_layer_init_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_(a=sqrt(5)) on the weight
    (uniform within +-1/sqrt(fan_in)) and the bias uniform within the same bound."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = bias_bound(weight)
        uniform_(bias, -bound, bound)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Normal(0, std) entries with a `sparsity` fraction of each column set to zero (2-D)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for col in range(cols):
            tensor[fac.randperm(rows, generator=generator)[:zeros], col] = 0
    return tensor


def _deprecated(new):
    """The old spellings without `_` (nn.init.normal ...): PyTorch warns and calls the new."""
    import warnings

    def old(*args, **kwargs):
        warnings.warn(f"`nn.init.{new.__name__[:-1]}` is now deprecated in favor of "
                      f"`nn.init.{new.__name__}`.", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = new.__name__[:-1]
    old.__doc__ = f"Deprecated alias of `{new.__name__}`."
    return old


uniform, normal, constant, eye, dirac = (_deprecated(f) for f in (uniform_, normal_, constant_,
                                                                  eye_, dirac_))
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)


# PyTorch's private helpers, which user code imports (timm's `trunc_normal_` wrapper, custom
# kaiming inits): the same as the public forms, which already run under no_grad
_calculate_correct_fan = _fan


def _no_grad_uniform_(tensor: Tensor, a: float, b: float, generator=None) -> Tensor:
    return uniform_(tensor, a, b, generator=generator)


def _no_grad_normal_(tensor: Tensor, mean: float, std: float, generator=None) -> Tensor:
    return normal_(tensor, mean, std, generator=generator)


def _no_grad_trunc_normal_(tensor: Tensor, mean: float, std: float, a: float, b: float,
                           generator=None) -> Tensor:
    return trunc_normal_(tensor, mean, std, a, b, generator=generator)


def _no_grad_fill_(tensor: Tensor, val: float) -> Tensor:
    return constant_(tensor, val)


def _no_grad_zero_(tensor: Tensor) -> Tensor:
    return zeros_(tensor)
