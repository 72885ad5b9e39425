"""`graphnet.autograd.Function`: a forward and a hand-written backward, in both modes.

Eagerly, `apply` runs `forward` under no_grad and records one `FunctionNode` on the tape; its
VJP calls the user's `backward` with Tensors (recorded too under `create_graph=True`).

Inside `graphnet.compile`, `forward` is traced under no_grad and its outputs pass through one
`custom_function` node whose kernel is a `jax.custom_vjp`: the identity on the outputs, with
the user's `backward` as its VJP. JAX calls that backward while it differentiates the program
(a compiled `backward()`, `autograd.grad`, a compiled forward on the tape); it then runs
eagerly on JAX's tracers, so the compiled gradient is the user's formula, as in PyTorch."""

from __future__ import annotations

import functools
import inspect

import numpy as np

from .. import _autograd, _func_active
from .. import _autograd_versions as _versions
from .. import _dtype as dt
from .._autograd import TapeNode, freed_error
from .._mode import current_mode, tracing
from .._ops import defop
from .._tensor import Tensor
from . import forward_ad
from ._function_outputs import unpack, wrap_outputs

__all__ = ["Function", "FunctionCtx", "once_differentiable", "NestedIOFunction",
           "InplaceFunction"]


class FunctionCtx:
    """The `ctx` of `forward` / `backward`: what forward saves for backward."""

    def __init__(self, needs_input_grad=()):
        self.needs_input_grad = tuple(needs_input_grad)
        self.to_save = ()
        self.non_differentiable = ()
        self.dirty = ()
        self.materialize_grads = True
        self._freed = False
        self._saved_at = None   # (tensor, version) per saved tensor after forward (`apply`)
        self._check_saved = False

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):    # (not tensors.index(t): it compares with ==)
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self.to_save = tensors

    save_for_forward = save_for_backward

    @property
    def saved_tensors(self) -> tuple:
        if self._freed and self.to_save:
            raise freed_error()
        if self._check_saved and _versions.bumped:
            _versions.refuse_modified_saved(self._saved_at)
        return unpack(self.to_save)

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        self.dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class FunctionNode(TapeNode):
    """A Function call on the eager tape: its VJP is the user's `backward`."""

    __slots__ = ("fn_cls", "ctx", "n_inputs", "positions", "in_avals")

    def __init__(self, fn_cls, ctx, edges, positions, n_inputs, out_avals, in_avals):
        super().__init__(fn_cls.__name__, tuple(edges), out_avals, (ctx,), None, None)
        self.fn_cls, self.ctx = fn_cls, ctx
        self.positions = positions    # forward argument index of each edge
        self.n_inputs = n_inputs
        self.in_avals = in_avals      # (shape, dtype) of each edge's input

    def name(self) -> str:
        return f"{self.fn_cls.__name__}Backward"

    def __getattr__(self, name: str):
        # NOTE: in PyTorch grad_fn IS the ctx: `y.grad_fn.saved_tensors`, `.needs_input_grad`
        # and what forward stored (`ctx.k`) are read on it
        if name == "ctx":   # not set yet (during __init__): no ctx to ask
            raise AttributeError(name)
        return getattr(self.ctx, name)

    def __repr__(self):
        return f"<graphnet.autograd.function.{self.name()} object at {hex(id(self))}>"

    @property
    def materialize(self) -> bool:
        return self.ctx.materialize_grads

    def _call(self, cts, graph: bool):
        # NOTE: a freed graph fails only where backward reads ctx.saved_tensors, as PyTorch's
        self.ctx._freed = self.saved is None
        grads = _call_backward(self.fn_cls, self.ctx, cts, self.n_inputs, graph)
        return [_validate(self.name(), p, grads[p], aval)
                for p, aval in zip(self.positions, self.in_avals)]

    def apply(self, cts):
        cts = [None if c is None else Tensor._wrap(c) for c in cts]
        return [None if g is None else g._value for g in self._call(cts, False)]

    def apply_graph(self, cts):
        return self._call(cts, True)


def _expandable(shape: tuple, to: tuple) -> bool:
    try:
        return len(to) >= len(shape) and np.broadcast_shapes(shape, to) == to
    except ValueError:
        return False


def _validate(name: str, index: int, g, aval):
    """PyTorch's check of a gradient a Function returned: a Tensor (or None), of the input's
    shape or broadcastable to it (then summed down to it), cast to the input's dtype."""
    if g is None:
        return None
    if not isinstance(g, Tensor):
        raise RuntimeError(f"expected Variable or None (got {type(g).__name__}): {name} "
                           f"returned it as gradient {index}; return a Tensor or None")
    shape, dtype = aval
    if tuple(g.shape) != tuple(shape):
        if not _expandable(tuple(shape), tuple(g.shape)):
            raise RuntimeError(f"Function {name} returned an invalid gradient at index "
                               f"{index} - got {list(g.shape)} but expected shape compatible "
                               f"with {list(shape)}")
        while g.dim() > len(shape):
            g = g.sum(0)
        for i, n in enumerate(shape):
            if n == 1 and g.shape[i] != 1:
                g = g.sum(i, keepdim=True)
    return g if g._value.dtype == dtype else g.to(dt.from_np(dtype))


def _call_backward(fn_cls, ctx, cts, n_inputs: int, graph: bool) -> list:
    """The user's backward, its result checked and padded to one entry per forward input."""
    with _autograd.set_grad_enabled(graph):
        grads = fn_cls.backward(ctx, *cts)
    # only a tuple is several gradients, as in PyTorch: a list is one (wrong) value
    grads = list(grads) if isinstance(grads, tuple) else [grads]
    if len(grads) < n_inputs or any(g is not None for g in grads[n_inputs:]):
        raise RuntimeError(f"function {fn_cls.__name__}Backward returned an incorrect number "
                           f"of gradients (expected {n_inputs}, got {len(grads)})")
    tensors = getattr(ctx, "_tensor_args", None) or (True,) * n_inputs
    for i, g in enumerate(grads[:n_inputs]):
        if isinstance(g, list):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
        if g is not None and not tensors[i]:   # `alpha` of forward(ctx, v, alpha)
            raise RuntimeError(f"function {fn_cls.__name__}Backward returned a gradient "
                               f"different than None at position {i + 1}, but the "
                               f"corresponding forward input was not a Variable")
    return grads[:n_inputs]


def _overrides_setup_context(cls) -> bool:
    return getattr(cls, "setup_context", None) is not Function.setup_context


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` (or
    `forward(*args)` plus `setup_context(ctx, inputs, output)`), then call `MyFn.apply(...)`.

    >>> class Square(graphnet.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * g
    """

    generate_vmap_rule = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # NOTE: PyTorch gives every Function its own node class, so `type(y.grad_fn).__name__`
        # is `MyFnBackward`; code that dispatches on it keeps working.
        cls._backward_cls = type(f"{cls.__name__}Backward", (FunctionNode,), {"__slots__": ()})

    def __init__(self, *args, **kwargs):
        import warnings

        warnings.warn(f"{type(self).__name__} should not be instantiated. Methods on autograd "
                      f"functions are all static, so you should invoke them on the class "
                      f"itself.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please "
            "use new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward "
                                  "mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run `forward` and record `backward` as its gradient."""
        if kwargs:   # bound to forward's signature, then passed positionally, as PyTorch does
            args = _bind(cls, args, kwargs)
        if _func_active.FORWARD[0] or forward_ad._levels.stack:
            forward_ad.refuse_custom_function(cls, args)
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        ctx._tensor_args = tuple(isinstance(a, Tensor) for a in args)
        # traced, the values the arguments had before forward: an input it writes in place
        # and marks dirty keeps its history from those (_function_static.py)
        before = tuple(a._value if isinstance(a, Tensor) else None for a in args) \
            if tracing() else None
        with _autograd.no_grad():
            if _overrides_setup_context(cls):
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args)
        # NOTE: after forward, as PyTorch saves them: a write the forward marks dirty counts.
        # Traced, the user's backward runs when JAX differentiates the whole program, after
        # writes that follow backward(): the tracer checks them at backward() instead
        # (compiler/autodiff_versions.py `note_saved`)
        ctx._saved_at = tuple((t, _versions.version(t)) for t in ctx.to_save if t is not None)
        ctx._check_saved = not tracing()
        record = _autograd.grad_mode.enabled and any(needs)
        # inside a compiled backward that JAX differentiates (_OnTracers: another Function's
        # backward calls this one), JAX must take this Function's backward too: its forward
        # ran under no_grad, so its values were constants and a second derivative through
        # them was 0, silently
        inner = getattr(current_mode(), "differentiated_by_jax", False)
        if tracing() or inner:
            from ._function_static import apply_static

            record = record or (inner and _autograd.grad_mode.enabled
                                and any(isinstance(a, Tensor) for a in args))
            return apply_static(cls, ctx, args, output, record, before)
        return wrap_outputs(cls, ctx, args, output, record)


def _bind(cls, args, kwargs) -> tuple:
    setup_style = _overrides_setup_context(cls)
    signature = inspect.signature(cls.forward)
    bound = signature.bind(*args, **kwargs) if setup_style else \
        signature.bind(None, *args, **kwargs)
    bound.apply_defaults()
    values = []
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        values.extend(value if kind == inspect.Parameter.VAR_POSITIONAL else
                      value.values() if kind == inspect.Parameter.VAR_KEYWORD else (value,))
    return tuple(values if setup_style else values[1:])


def once_differentiable(fn):
    """Decorate a Function's `backward` that cannot itself be differentiated: it runs under
    no_grad, and a gradient of its result raises PyTorch's error."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        guard = getattr(current_mode(), "once_differentiable", None)
        if guard is not None:   # compiled: JAX differentiates the backward, or does not
            return guard(fn(ctx, *args), args)
        with _autograd.no_grad():
            outputs = fn(ctx, *args)
        if not _autograd.grad_mode.enabled or not any(
                isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped = tuple(_delayed_error(o) if isinstance(o, Tensor) else o for o in outs)
        return wrapped[0] if single else wrapped

    wrapper.once_differentiable = True   # read by compiler/grad_walk.py
    return wrapper


class _DelayedError(TapeNode):
    __slots__ = ()

    def name(self) -> str:
        return "DelayedError"

    def apply(self, cts):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")

    apply_graph = apply


def _delayed_error(t: Tensor) -> Tensor:
    node = _DelayedError("DelayedError", (), [(t._value.shape, t._value.dtype)], (), None)
    return Tensor._wrap(t._value, node, 0)


class NestedIOFunction(Function):
    """PyTorch's legacy nested-input Function: refused (use `Function` with static methods)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "graphnet.autograd.NestedIOFunction (a legacy, undocumented PyTorch API) is not "
            "supported: write a graphnet.autograd.Function with static forward(ctx, ...) and "
            "backward(ctx, ...) methods instead")


class InplaceFunction(Function):
    """A Function with an `inplace` flag, as PyTorch's `torch.autograd.function`."""

    def __init__(self, inplace=False):
        self.inplace = inplace


# NOTE: n_outputs=0: as many outputs as the forward returned tensors.
@defop("custom_function", "opaque", n_outputs=0, function=None, method=None, foldable=False,
       mergeable=False)
def custom_function(*arrays, spec):
    """The outputs of a traced Function (its first `spec.n_out` inputs), unchanged, with
    the user's backward as their VJP (see _function_static.py)."""
    return spec.kernel(*arrays)
