"""PyTorch's dtype rules for `nn.functional` inputs that are integers or bools.

PyTorch's CPU kernels are compiled for the dtypes they support and refuse the others:
`F.gelu(int64 tensor)` raises `NotImplementedError: "GeluKernelImpl" not implemented for
'Long'`. JAX computes nearly anything, so graphnet gave numbers instead (float64 ones for
gelu, mse_loss, layer inputs), or an internal JAX error. `guard_dtypes` wraps each public
function named in `RULES` with PyTorch's check of its input's dtype, applied before the
function runs, eagerly and while tracing alike (dtypes are static). Functions whose input
PyTorch takes as integers but computes in float32 (`margin_ranking_loss`, `lp_pool2d`) get
float32 inputs instead of JAX's float64. The messages are PyTorch's, found by calling each
function in torch 2.13 (tests/test_functional_dtypes.py does so again)."""

from __future__ import annotations

import functools

from .._ops._promote import cpp_name, not_implemented, torch_name
from .._tensor import Tensor

_MEAN = ("mean(): could not infer output dtype. Input dtype must be either a floating point "
         "or complex dtype. Got: {T}")
_SUB_BOOLS = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
              "`^` or `logical_xor()` operator instead.")
_SUB_BOOL = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
             "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
_NEG = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
        "invert a mask, use the `~` or `logical_not()` operator instead.")
_CAST = "result type Float can't be cast to the desired output type {T}"
_FLOAT32 = "float32"    # a rule's action: integer and bool inputs become float32
_INTEGER_MEAN = "integer mean"


def _kernel(name: str):
    return lambda dtype, args, kwargs: not_implemented(name, dtype)


def _error(message: str, names=torch_name):
    return lambda dtype, args, kwargs: RuntimeError(message.format(T=names(dtype)))


def _argument(args, kwargs, position: int, name: str, default):
    return args[position] if len(args) > position else kwargs.get(name, default)


def _reduced(message: str):
    """`message` unless the loss returns every element (`reduction="none"`)."""
    def error(dtype, args, kwargs):
        if _argument(args, kwargs, 4, "reduction", "mean") != "none":
            return RuntimeError(message.format(T=torch_name(dtype)))
    return error


def _training(message: str, position: int = 2):
    """`message` when dropout draws a mask (training); in eval mode the input passes."""
    def error(dtype, args, kwargs):
        if _argument(args, kwargs, position, "training", True):
            return RuntimeError(message.format(T=torch_name(dtype)))
    return error


def _per_class(name: str):
    """log_softmax over the class dimension: the last one for [N, C] input."""
    def error(dtype, args, kwargs):
        last = args[0].dim() <= 2
        return not_implemented(f"{name}_{'lastdim_' if last else ''}kernel_impl", dtype)
    return error


def _resampling(dtype, args, kwargs):
    """Integer and bool images are refused, but for uint8 ones resized by nearest neighbours,
    or bilinearly or bicubically in 2-d. Antialiased resizing checks its own dtypes
    (nn/_antialias.py: uint8 and float32/64, as PyTorch's kernels)."""
    if _argument(args, kwargs, 6, "antialias", False):
        return None
    mode = _argument(args, kwargs, 3, "mode", "nearest")
    spatial = args[0].dim() - 2
    if dtype.name == "uint8" and (mode.startswith("nearest") or
                                  (spatial == 2 and mode in ("bilinear", "bicubic"))):
        return None
    if mode == "area":
        return not_implemented("adaptive_avg_pool3d_cpu" if spatial == 3
                               else "adaptive_avg_pool2d", dtype)
    if spatial == 2 and mode in ("nearest", "nearest-exact", "bilinear"):
        return not_implemented(f"upsample_{mode.split('-')[0]}2d_channels_last", dtype)
    weights = {"nearest-exact": "nearest", "bilinear": "linear", "trilinear": "linear",
               "bicubic": "cubic"}.get(mode, mode)
    return not_implemented(f"compute_indices_weights_{weights}", dtype)


def _prelu_kernel(dtype, args, kwargs):
    """PyTorch checks prelu's operand types first: an int input with a float weight is its
    promotion error (nn.functional.prelu raises it), an int weight too the missing kernel."""
    weight = _argument(args, kwargs, 1, "weight", None)
    if isinstance(weight, Tensor) and weight.dtype != dtype:
        return None
    return not_implemented("prelu_cpu", dtype)


def _hardtanh_limits(dtype, args, kwargs):
    low = _argument(args, kwargs, 1, "min_val", -1.0)
    if dtype.name == "uint8" and low < 0:
        return RuntimeError("cannot do hardtanh on an unsigned type with negative limits")


# function -> {kinds: rule}; kinds 'l' (int64), 'i' (the other integer dtypes), 'b' (bool); a
# rule makes the exception to raise (or None to let the call run), or is _FLOAT32 or
# _INTEGER_MEAN (an average of integers: computed in floating point, truncated back)
RULES = {
    "gelu": {"ilb": _kernel("GeluKernelImpl")},
    "silu": {"ilb": _kernel("silu_cpu")},
    "leaky_relu": {"ilb": _kernel("leaky_relu_cpu")},
    "leaky_relu_": {"ilb": _kernel("leaky_relu_cpu")},
    "rrelu": {"ilb": _kernel("leaky_relu_cpu")},
    "rrelu_": {"ilb": _kernel("leaky_relu_cpu")},
    "elu": {"ilb": _kernel("elu_cpu")},
    "elu_": {"ilb": _kernel("elu_cpu")},
    "selu": {"ilb": _kernel("elu_cpu")},
    "selu_": {"ilb": _kernel("elu_cpu")},
    "celu": {"ilb": _kernel("elu_cpu")},
    "celu_": {"ilb": _kernel("elu_cpu")},
    "softplus": {"ilb": _kernel("softplus_cpu")},
    "mish": {"ilb": _kernel("mish_cpu")},
    "hardswish": {"ilb": _kernel("hardswish_cpu")},
    "hardsigmoid": {"ilb": _kernel("hardsigmoid_cpu")},
    "glu": {"ilb": _kernel("glu_cpu")},
    "logsigmoid": {"ilb": _kernel("log_sigmoid_cpu")},
    "prelu": {"ilb": _prelu_kernel},
    "hardshrink": {"ilb": _kernel("hardshrink_cpu")},
    "softshrink": {"ilb": _kernel("softshrink_check")},
    "threshold": {"b": _kernel("threshold_cpu")},
    "threshold_": {"b": _kernel("threshold_cpu")},
    "relu6": {"b": _error("Bool inputs not supported for hardtanh")},
    "hardtanh": {"b": _error("Bool inputs not supported for hardtanh"),
                 "i": _hardtanh_limits},
    "hardtanh_": {"b": _error("Bool inputs not supported for hardtanh"),
                  "i": _hardtanh_limits},
    "gumbel_softmax": {"ilb": _error("Exponential distribution is a continuous probability "
                                    "distribution. dtype must be a floating point but you "
                                    "specified {T}")},
    "mse_loss": {"ilb": _kernel("mse_cpu")},
    "smooth_l1_loss": {"ilb": _kernel("smooth_l1_cpu")},
    "huber_loss": {"ilb": _kernel("huber_cpu")},
    "l1_loss": {"il": _reduced(_MEAN), "b": _error(_SUB_BOOLS)},
    "cross_entropy": {"ilb": _per_class("log_softmax")},
    "nll_loss": {"ilb": _kernel("nll_loss_out_frame")},
    "kl_div": {"ilb": _error("kl_div: Integral inputs not supported.")},
    "binary_cross_entropy": {"ilb": _kernel("binary_cross_entropy")},
    "binary_cross_entropy_with_logits": {"ilb": _kernel("log_sigmoid_cpu")},
    "multilabel_soft_margin_loss": {"ilb": _kernel("log_sigmoid_cpu")},
    "poisson_nll_loss": {"il": _FLOAT32, "b": _error(_SUB_BOOL)},
    "gaussian_nll_loss": {"ilb": _error(_CAST, cpp_name)},
    "soft_margin_loss": {"il": _error(_CAST), "b": _error(_NEG)},
    "hinge_embedding_loss": {"il": _error(_MEAN), "b": _error(_SUB_BOOLS)},
    "margin_ranking_loss": {"il": _FLOAT32, "b": _error(_SUB_BOOLS)},
    "triplet_margin_loss": {"il": _FLOAT32, "b": _error(_SUB_BOOLS)},
    "pairwise_distance": {"b": _error(_SUB_BOOLS)},
    "cosine_embedding_loss": {"ilb": _FLOAT32},
    "multi_margin_loss": {"ilb": _kernel("multi_margin_loss_cpu_kernel")},
    "multilabel_margin_loss": {"ilb": _kernel("multilabel_margin_loss_forward_out_frame")},
    "ctc_loss": {"ilb": _kernel("ctc_loss_cpu")},
    "dropout": {"ilb": _training(_CAST)},
    "dropout1d": {"ilb": _training(_CAST)},
    "dropout2d": {"ilb": _training(_CAST)},
    "dropout3d": {"ilb": _training(_CAST)},
    "alpha_dropout": {"ilb": _training(_CAST)},
    "feature_alpha_dropout": {"ilb": _training(_CAST)},
    "normalize": {"ilb": _error("linalg.vector_norm: Expected a floating point or complex "
                               "tensor as input. Got {T}")},
    "instance_norm": {"ilb": _kernel("batch_norm")},
    "local_response_norm": {"l": _FLOAT32, "ib": _kernel("avg_pool2d")},
    "rms_norm": {"ilb": _kernel("rms_norm")},
    "max_pool1d": {"ilb": _kernel("max_pool1d_impl")},
    "max_pool2d": {"b": _kernel("max_pool2d")},
    "max_pool3d": {"b": _kernel("max_pool3d")},
    "avg_pool1d": {"ib": _kernel("avg_pool2d"), "l": _INTEGER_MEAN},
    "avg_pool2d": {"ib": _kernel("avg_pool2d"), "l": _INTEGER_MEAN},
    "avg_pool3d": {"ib": _kernel("avg_pool3d_out_frame"), "l": _INTEGER_MEAN},
    "adaptive_avg_pool1d": {"ilb": _error(_MEAN)},
    "adaptive_avg_pool2d": {"ilb": _error(_MEAN)},
    "adaptive_avg_pool3d": {"ilb": _error(_MEAN)},
    "adaptive_max_pool1d": {"ilb": _kernel("adaptive_max_pool2d")},
    "adaptive_max_pool2d": {"ilb": _kernel("adaptive_max_pool2d")},
    "adaptive_max_pool3d": {"ilb": _kernel("adaptive_max_pool3d_cpu")},
    "lp_pool1d": {"lb": _FLOAT32, "i": _kernel("avg_pool2d")},
    "lp_pool2d": {"lb": _FLOAT32, "i": _kernel("avg_pool2d")},
    "lp_pool3d": {"lb": _FLOAT32, "i": _kernel("avg_pool3d_out_frame")},
    "interpolate": {"ilb": _resampling},
    "unfold": {"il": _kernel("im2col_out_cpu")},
    "fold": {"il": _kernel("col2im_out_cpu")},
    "scaled_dot_product_attention": {"ilb": _error("expected scalar type Float but found {T}")},
    "grid_sample": {"ilb": _kernel("grid_sampler_2d_cpu_kernel_impl")},
}


def _kind(t) -> str | None:
    if not isinstance(t, Tensor):
        return None
    if t.dtype.is_floating_point or t.dtype.is_complex:
        return None
    return {"bool": "b", "int64": "l"}.get(t.dtype.name, "i")


def _float32(x):
    from .. import _dtype as dt

    return x.to(dt.float32) if _kind(x) is not None else x


def _rule_for(rules: dict, first):
    """The rule of `rules` for `first`'s dtype kind; None for a float input or no row."""
    kind = _kind(first)
    return None if kind is None else next((r for kinds, r in rules.items() if kind in kinds),
                                          None)


def refuse(name: str, input):
    """`input` as the public function `name` would take it (float32 for the functions that
    compute integers in float32), or PyTorch's error for its dtype: for modules that call a
    private kernel (`nn.MaxPool1d`) rather than the public function."""
    rule = _rule_for(RULES[name], input)
    if rule is _FLOAT32:
        return _float32(input)
    if rule is not None and rule is not _INTEGER_MEAN:
        error = rule(input.dtype, (input,), {})
        if error is not None:
            raise error
    return input


# Losses whose input and target PyTorch promotes to one dtype before its kernel's dtype check:
# mse_loss(int64 input, float target) is a float32 loss, not the kernel's refusal.
_PROMOTED_WITH_TARGET = frozenset({"mse_loss", "smooth_l1_loss", "l1_loss"})


def _guarded(fn, rules: dict, with_target: bool = False):
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        first = args[0] if args else kwargs.get("input")
        target = args[1] if len(args) > 1 else kwargs.get("target")
        if with_target and _kind(first) is not None and isinstance(target, Tensor) \
                and _kind(target) is None:
            return fn(*args, **kwargs)    # the promoted dtype is the target's float
        rule = _rule_for(rules, first)
        if rule is _FLOAT32:
            args = tuple(_float32(a) for a in args)
            kwargs = {k: _float32(v) for k, v in kwargs.items()}
        elif rule is _INTEGER_MEAN:
            return fn(*args, **kwargs).trunc().to(first.dtype)
        elif rule is not None:
            error = rule(first.dtype, args, kwargs)
            if error is not None:
                raise error
        return fn(*args, **kwargs)

    return guarded


def guard_dtypes(namespace: dict) -> None:
    """Wrap the functions of `namespace` (nn.functional's) that `RULES` names, there and in
    the module that defines each: the nn modules call them through that module
    (`functional_conv.avg_pool1d`), and before, `nn.AvgPool1d` on int64 input gave float64
    fractions where `F.avg_pool1d` and PyTorch give int64."""
    import sys

    for name, rules in RULES.items():
        if name in namespace:
            fn = namespace[name]
            namespace[name] = guarded = _guarded(fn, rules, name in _PROMOTED_WITH_TARGET)
            home = sys.modules.get(getattr(fn, "__module__", "") or "")
            if home is not None and getattr(home, name, None) is fn:
                setattr(home, name, guarded)
