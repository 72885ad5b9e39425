"""The walk over a module tree: `named_modules`, `parameters`, `buffers`, `apply`, and the
calls that act on every module or tensor below one (`train`, `eval`, `zero_grad`, `to`).

These are `nn.Module`'s own methods, written here only to keep `_module.py` short: `Module`
binds each one in its class body (`parameters = _ModuleTree.parameters`) rather than inheriting
`_ModuleTree`, so its MRO and class `__dict__` stay PyTorch's. They keep no state and read the
registries `Module.__init__` creates (`_parameters`, `_buffers`, `_modules`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

from .._methods import zero_in_place
from .._mode import current_mode
from .._tensor import Parameter, Tensor

if TYPE_CHECKING:
    from ._module import Module


class _ModuleTree:
    """A namespace for `Module`'s tree methods; never a base class, never instantiated."""

    # ---- traversal ---------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and grads -----------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        recorder = current_mode()
        if recorder is not None:    # a tracer records it: the compiled call must set it again
            recorder.on_training_set(self, mode)
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                zero_in_place(p.grad)

    def _apply_to_tensors(self, fn: Callable[[Tensor], Tensor]) -> "Module":
        for module in self.modules():
            for t in module._parameters.values():
                if t is not None:
                    t._value = fn(t)._value
                    if t._grad is not None:   # `.double()` casts the gradient too, as
                        t._grad._value = fn(t._grad)._value    # PyTorch's _apply
            buffers = module._buffers
            for name, t in list(buffers.items()):
                # a converted buffer is a new tensor, as PyTorch's `_apply` makes it: a
                # reference taken before keeps its dtype and values (it followed them)
                value = fn(t)._value if t is not None else None
                if t is not None and value is not t._value:
                    buffers[name] = Tensor._wrap(value)
        return self

    def to_empty(self, *, device=None, recurse: bool = True) -> "Module":
        """Every parameter and buffer replaced by an uninitialised one of its shape (zeros
        here) on `device`, to be filled by `reset_parameters()` or `load_state_dict`."""
        from .._factories import zeros_like

        modules = self.modules() if recurse else [self]
        for module in modules:
            for registry in ("_parameters", "_buffers"):
                for t in getattr(module, registry).values():
                    if t is not None:
                        t._value = zeros_like(t, device=device)._value
        return self

    def set_submodule(self, target: str, module, strict: bool = False) -> None:
        """Put `module` at dotted path `target` (its parent must exist; with `strict`, so
        must the slot)."""
        from ._module import Module

        if not target:
            raise ValueError("Cannot set the submodule without a target name!")
        *path, name = target.split(".")
        parent = self
        for part in path:
            if not hasattr(parent, part):
                raise AttributeError(f"{type(parent).__name__} has no attribute `{part}`")
            parent = getattr(parent, part)
            if not isinstance(parent, Module):
                raise AttributeError(f"`{part}` is not an nn.Module")
        if not isinstance(module, Module):
            raise TypeError(f"`module` must be an nn.Module, got {type(module).__name__}")
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def to(self, *args, **kwargs) -> "Module":
        """`to(dtype)` casts the floating point parameters and buffers; `to(device)` moves
        every parameter, buffer and gradient there (in place: the same Parameter objects,
        so an optimizer built before the move still holds them, as in PyTorch)."""
        from .. import _device
        from .._placement import _parse_to

        dtype, where = _parse_to(args, kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
        if dtype is not None:
            self._apply_to_tensors(lambda t: t.to(dtype) if t.is_floating_point() else t)
        if kwargs.get("memory_format") is not None:
            _lay_out(self, kwargs["memory_format"])
        if where is not None:
            target = _device.jax_device(where)
            tensors = [t for module in self.modules() for registry in ("_parameters", "_buffers")
                       for t in getattr(module, registry).values() if t is not None]
            for t in tensors:
                t._value = _device.place(t._value, where)
                if t.grad is not None and target not in t.grad._value.devices():
                    t.grad._value = _device.place(t.grad._value, where)
        return self

    def type(self, dst_type) -> "Module":
        """Every parameter and buffer cast to `dst_type` (a dtype, a legacy type such as
        graphnet.DoubleTensor, or its name), integer ones too (BatchNorm's
        num_batches_tracked), unlike `to(dtype)`; returns self, as PyTorch's Module.type."""
        from .._tensor import Tensor

        probe = Tensor([0.0]).type(dst_type)   # resolves names and legacy types, with errors
        if not probe.is_floating_point() and any(p.requires_grad for p in self.parameters()):
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        return self._apply_to_tensors(lambda t: t.to(probe.dtype))

    def float(self) -> "Module":
        from .. import _dtype as dt

        return self.to(dt.float32)

    def double(self) -> "Module":
        from .. import _dtype as dt

        return self.to(dt.float64)

    def half(self) -> "Module":
        from .. import _dtype as dt

        return self.to(dt.float16)

    def bfloat16(self) -> "Module":
        from .. import _dtype as dt

        return self.to(dt.bfloat16)

    def cpu(self) -> "Module":
        return self.to("cpu")

    def share_memory(self) -> "Module":
        """`share_memory_()` of every parameter and buffer (`is_shared()` is then True)."""
        for tensor in [*self.parameters(), *self.buffers()]:
            tensor.share_memory_()
        return self

    def compile(self, *args, **kwargs) -> None:
        """`torch.nn.Module.compile`: calls of this module run `graphnet.compile` of it from
        now on, with these arguments (its forward and hooks traced into one program, per
        input signature); inside another compiled function it joins that trace."""
        from .._facade import compile as compile_
        from ._module import Module

        target = self
        if type(self).__call__ is not Module.__call__:
            # a `__call__` override runs around the compiled part, once: compiling `self`
            # ran it again inside (`x * pre * pre`), where PyTorch compiles `_call_impl`
            def target(*call_args, **call_kwargs):
                return Module.__call__(self, *call_args, **call_kwargs)
        self.__dict__["_compiled_call"] = compile_(target, *args, **kwargs)

    def cuda(self, device=None) -> "Module":
        """Every parameter and buffer on a JAX GPU; a RuntimeError when JAX has none."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else device or "cuda")


# NOTE: bound-method reprs read `__qualname__` (`<bound method Module.parameters of ...>`, as in
# PyTorch; the seed corpus compares them with torch's) and pickle finds a function by
# `__module__` and `__qualname__`, so each function is named as the `Module` method it is.
for _name, _function in vars(_ModuleTree).items():
    if callable(_function):
        _function.__qualname__ = f"Module.{_name}"
        _function.__module__ = "graphnet.nn._module"
del _name, _function


def _lay_out(module_tree, fmt) -> None:
    """`to(memory_format=channels_last)`: each 4-D and 5-D parameter and buffer reports
    that format's strides, as PyTorch lays them out (the values stay; before, the
    argument was ignored silently)."""
    from .._memory_format import checked, laid_out

    checked(fmt, "to")
    for module in module_tree.modules():
        for registry in ("_parameters", "_buffers"):
            for t in getattr(module, registry).values():
                if t is not None and t.dim() in (4, 5):
                    laid_out(t, fmt)
