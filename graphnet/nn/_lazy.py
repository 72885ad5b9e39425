"""Lazy modules: LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*.

A lazy module's input size is read from its first input. Until then its parameters are
`UninitializedParameter`s (and running statistics `UninitializedBuffer`s); the first call
builds the ordinary module with that size, moves its freshly initialised values into the same
Parameter objects (so an optimizer built before the first call keeps working, as in PyTorch),
and the module becomes that class (`LazyLinear` -> `Linear`)."""

from __future__ import annotations


from .. import _factories as fac
from .. import _host
from .._errors import TraceError
from .._mode import tracing
from .._tensor import Parameter, Tensor
from ._conv import Conv1d, Conv2d
from ._conv_extra import Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ._linear import Linear
from ._module import Module
from ._norm import BatchNorm1d, BatchNorm2d
from ._norm_extra import BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d",
           "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; `materialize(shape)` gives it one."""

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return super().__new__(cls, fac.empty(0, dtype=dtype), requires_grad=requires_grad)

    def materialize(self, shape, device=None, dtype=None) -> None:
        self._value = _host.zeros(tuple(shape), dtype or self._value.dtype)
        self.__class__ = Parameter

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet; `materialize(shape)` gives it one."""

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        super().__init__(fac.empty(0, dtype=dtype)._value)
        self.requires_grad = requires_grad

    def materialize(self, shape, device=None, dtype=None) -> None:
        self._value = _host.zeros(tuple(shape), dtype or self._value.dtype)
        self.__class__ = Tensor

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"


class _LazyMixin:
    """Holds the constructor arguments; the first forward builds `cls_to_become` from them."""

    cls_to_become: type = Module
    _in_attr = ""          # the constructor's first argument, read from the input

    def _lazy_init(self, kwargs: dict) -> None:
        self._lazy_kwargs = kwargs
        for name, p in list(self._parameters.items()):
            if p is not None:
                self._parameters[name] = UninitializedParameter(dtype=kwargs.get("dtype"))
        for name in ("running_mean", "running_var"):
            if self._buffers.get(name) is not None:
                self._buffers[name] = UninitializedBuffer(dtype=kwargs.get("dtype"))
        setattr(self, self._in_attr, 0)
        self._lazy_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(t, (UninitializedParameter, UninitializedBuffer))
                   for t in (*self._parameters.values(), *self._buffers.values()))

    def _input_size(self, input) -> int:   # PyTorch's lazy norms read dim 1
        return input.shape[1]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """As PyTorch's lazy load hook: an uninitialized parameter or buffer that the state
        dict holds takes the loaded tensor's shape first, so the load fills it (it was a
        size mismatch); the first forward then only reads the input's size."""
        for table in (self._parameters, self._buffers):
            for name, value in table.items():
                loaded = state_dict.get(prefix + name)
                if isinstance(value, (UninitializedParameter, UninitializedBuffer)) \
                        and isinstance(loaded, Tensor):
                    value.materialize(tuple(loaded.shape))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def initialize_parameters(self, input) -> None:
        built = self.cls_to_become(self._input_size(input), **self._lazy_kwargs)
        for table, new in ((self._parameters, built._parameters),
                           (self._buffers, built._buffers)):
            for name, value in new.items():
                old = table.get(name)
                if isinstance(old, (UninitializedParameter, UninitializedBuffer)):
                    old.materialize(tuple(value.shape), dtype=value._value.dtype)
                    old._value = value._value
                elif not (isinstance(old, Tensor) and old.shape == value.shape):
                    table[name] = value   # one a state dict filled (shape matching) stays
        plain = set(vars(Module()))   # hooks, tables, training: keep this module's own
        for name, value in vars(built).items():
            if name not in plain:
                object.__setattr__(self, name, value)


def _infer_parameters(module, args):
    if module.has_uninitialized_params():
        if tracing():
            raise TraceError(f"{type(module).__name__}: a lazy module cannot materialise its "
                             f"parameters inside graphnet.compile; call it once eagerly "
                             f"(model(example_input)) before compiling")
        if not args:
            raise ValueError(f"{type(module).__name__}: the first call needs an input")
        module.initialize_parameters(args[0])
    elif args:   # loaded from a state dict: only the input's size is left to read
        setattr(module, module._in_attr, module._input_size(args[0]))
    module._lazy_hook.remove()
    del module._lazy_hook, module._lazy_kwargs
    module.__class__ = module.cls_to_become


class LazyLinear(_LazyMixin, Linear):
    """A Linear whose in_features is read from the first input's last dim.

    >>> layer = nn.LazyLinear(4); layer(graphnet.randn(2, 7)).shape; layer
    graphnet.Size([2, 4])
    Linear(in_features=7, out_features=4, bias=True)
    """

    cls_to_become = Linear
    _in_attr = "in_features"

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        Linear.__init__(self, 1, out_features, bias, dtype=dtype)
        self._lazy_init(dict(out_features=out_features, bias=bias, dtype=dtype))

    def _input_size(self, input) -> int:
        return input.shape[-1]


def _lazy_conv(base: type, name: str, transposed: bool) -> type:
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, *rest,
                 **kwargs):
        order = ("output_padding", "groups", "bias", "dilation", "padding_mode") if transposed \
            else ("dilation", "groups", "bias", "padding_mode")
        kwargs.update(zip(order, rest))
        kwargs.pop("device", None)
        args = dict(out_channels=out_channels, kernel_size=kernel_size, stride=stride,
                    padding=padding, **kwargs)
        base.__init__(self, kwargs.get("groups", 1), **args)
        self._lazy_init(args)

    doc = f"""A {base.__name__} whose in_channels is read from the first input (dim 1, or dim 0
    of an unbatched input)."""
    def _input_size(self, input) -> int:
        # PyTorch: dim 1 of a batched input, dim 0 of an unbatched one
        return input.shape[1] if input.dim() == len(self.kernel_size) + 2 else input.shape[0]

    return type(name, (_LazyMixin, base), dict(__init__=__init__, __doc__=doc,
                                               _input_size=_input_size, __module__=__name__,
                                               cls_to_become=base,
                                               _in_attr="in_channels"))


def _lazy_norm(base: type, name: str, affine: bool, track: bool) -> type:
    def __init__(self, eps=1e-5, momentum=0.1, affine=affine, track_running_stats=track,
                 device=None, dtype=None, *, bias=True):
        args = dict(eps=eps, momentum=momentum, affine=affine,
                    track_running_stats=track_running_stats, dtype=dtype, bias=bias)
        base.__init__(self, 1, **args)
        self._lazy_init(args)

    doc = f"""A {base.__name__} whose num_features is read from the first input's channels."""
    return type(name, (_LazyMixin, base), dict(__init__=__init__, __doc__=doc,
                                               __module__=__name__, cls_to_become=base,
                                               _in_attr="num_features"))


# NOTE: PyTorch's lazy instance norms default to affine and tracked stats, unlike InstanceNorm
# itself: they share the lazy batch norm's base class.
LazyConv1d = _lazy_conv(Conv1d, "LazyConv1d", False)
LazyConv2d = _lazy_conv(Conv2d, "LazyConv2d", False)
LazyConv3d = _lazy_conv(Conv3d, "LazyConv3d", False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, "LazyConvTranspose1d", True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, "LazyConvTranspose2d", True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, "LazyConvTranspose3d", True)
LazyBatchNorm1d = _lazy_norm(BatchNorm1d, "LazyBatchNorm1d", True, True)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, "LazyBatchNorm2d", True, True)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, "LazyBatchNorm3d", True, True)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, "LazyInstanceNorm1d", True, True)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, "LazyInstanceNorm2d", True, True)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, "LazyInstanceNorm3d", True, True)
