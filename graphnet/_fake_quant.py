"""`torch.fake_quantize_per_tensor_affine` and `fake_quantize_per_channel_affine`, the
float-in, float-out primitives of quantization-aware training, with PyTorch's argument
checks (the kernel: graphnet/_ops/fake_quant.py), and `torch._int_mm`, the int8 matrix
product with int32 accumulation. Quantized tensor types stay refused."""

from __future__ import annotations

from ._dispatch import dispatch
from ._errors import wrap_dim
from ._mode import current_mode
from ._ops._promote import cpp_name, torch_name
from ._tensor import Tensor

__all__ = ["fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine", "_int_mm"]


def _int_mm(self: Tensor, mat2: Tensor) -> Tensor:
    """`torch._int_mm(a, b)`: int8 (or uint8) `[m, k]` by int8 `[k, n]` multiplied with
    int32 accumulation, the integer GEMM of quantized inference (op `matmul` on int32
    copies; int32 wraps on overflow as the kernel's accumulator does)."""
    from . import _dtype as dt

    for name, t in (("self", self), ("mat2", mat2)):
        if t.dim() != 2:
            raise RuntimeError(f"int_mm_out_cpu: Expected {name} to be of dimension 2 but got "
                               f"{t.dim()}")
    if self.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"int_mm_out_cpu: self.size(1) needs to match mat2.size(0) but got "
                           f"{self.shape[1]} and {mat2.shape[0]}")
    if self.dtype not in (dt.int8, dt.uint8):
        raise RuntimeError(f"int_mm_out_cpu: Expected self dtype to be int8 or uint8 but got "
                           f"{cpp_name(self.dtype)}")
    if mat2.dtype is not dt.int8:   # PyTorch's CPU kernel: an unsigned self, a signed mat2
        raise RuntimeError(f"int_mm_out_cpu: Expected mat2 dtype to be of type int8 but got "
                           f"{cpp_name(mat2.dtype)}")
    return self.to(dt.int32) @ mat2.to(dt.int32)


def _check_common(kernel: str, input, quant_min: int, quant_max: int) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{torch_name(input.dtype)}'")
    if quant_min > quant_max:   # PyTorch's words, spaces and all
        raise RuntimeError("`quant_min` should be less than or         equal to `quant_max`.")


def _no_grad_qparams(function: str, scale, zero_point) -> None:
    for name, value in (("scale", scale), ("zero_point", zero_point)):
        if isinstance(value, Tensor) and value.requires_grad:
            raise RuntimeError(f"The function '{function}' is not differentiable with respect "
                               f"to argument '{name}'. This input cannot have requires_grad "
                               f"True.")


def _check_zero_points(values, quant_min: int, quant_max: int) -> None:
    if any(not quant_min <= v <= quant_max for v in values):
        raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")


def fake_quantize_per_tensor_affine(input: Tensor, scale, zero_point, quant_min: int,
                                    quant_max: int) -> Tensor:
    """`(clamp(round(x / scale) + zero_point, quant_min, quant_max) - zero_point) * scale`,
    with the straight-through gradient (the incoming one where the grid value was not
    clamped). `scale` and `zero_point` are numbers or one-element tensors (then a float zero
    point is truncated and not range-checked, as in PyTorch)."""
    _check_common("fake_quantize_tensor_cachemask_kernel_type_handling", input, quant_min,
                  quant_max)
    if isinstance(scale, Tensor) or isinstance(zero_point, Tensor):
        _no_grad_qparams("_fake_quantize_per_tensor_affine_cachemask_tensor_qparams", scale,
                         zero_point)
        for value in (scale, zero_point):
            if isinstance(value, Tensor) and value.numel() != 1:
                raise RuntimeError(f"a Tensor with {value.numel()} elements cannot be "
                                   f"converted to Scalar")
        if isinstance(zero_point, Tensor) and zero_point.dtype.is_floating_point:
            zero_point = zero_point.trunc().long()
    else:
        if isinstance(zero_point, float):
            raise TypeError(f"fake_quantize_per_tensor_affine() received an invalid "
                            f"combination of arguments: zero_point must be an int, got "
                            f"{type(zero_point).__name__}")
        _check_zero_points([zero_point], quant_min, quant_max)
        scale, zero_point = float(scale), int(zero_point)
    op = ("fake_quantize_per_tensor_affine_cachemask_tensor_qparams"
          if isinstance(scale, Tensor) or isinstance(zero_point, Tensor)
          else "fake_quantize_per_tensor_affine_cachemask")
    return dispatch(op, input, scale, zero_point, axis=None,
                    quant_min=int(quant_min), quant_max=int(quant_max))


def fake_quantize_per_channel_affine(input: Tensor, scale: Tensor, zero_point: Tensor,
                                     axis: int, quant_min: int, quant_max: int) -> Tensor:
    """Fake quantization with one scale and zero point per index of `axis` (1-d tensors:
    float32 or bfloat16 scales; int32, float or half zero points, a float one added before
    rounding), straight-through gradient to `input`."""
    _check_common("fake_quantize_channel_cachemask_cpu_type_handling", input, quant_min,
                  quant_max)
    _no_grad_qparams("fake_quantize_per_channel_affine_cachemask", scale, zero_point)
    if scale.dim() != 1:
        raise RuntimeError("scale should be a 1-D tensor")
    if zero_point.dim() != 1:
        raise RuntimeError("zero point should be a 1-D tensor")
    if scale.numel() != zero_point.numel():
        raise RuntimeError("scale and zero-point need to have the same dimensions")
    if scale.numel() != input.shape[wrap_dim(axis, input.dim())]:
        raise RuntimeError("dimensions of scale and zero-point are not consistent with input "
                           "tensor")
    if axis < 0:
        raise RuntimeError("`axis` must be between 0 and number of dimensions of input")
    if scale.dtype.name not in ("float32", "bfloat16"):
        raise RuntimeError(f"Scale must be Float or BFloat16, found {torch_name(scale.dtype)}")
    if zero_point.dtype.name not in ("int32", "float32", "float16"):
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found "
                           f"{torch_name(zero_point.dtype)}")
    if current_mode() is None:   # NOTE: a traced zero point's values are not known
        _check_zero_points(zero_point.tolist(), quant_min, quant_max)
    return dispatch("fake_quantize_per_channel_affine_cachemask", input, scale, zero_point,
                    axis=axis, quant_min=int(quant_min), quant_max=int(quant_max))
