"""Dispatch: every graphnet op call goes through `dispatch(name, *args, **attrs)`.

With no mode active, the op runs eagerly: its kernel, jitted once per (op, attributes), runs
now, and a `TapeNode` is recorded when an input requires grad (the dynamic graph). A mode on
the stack (the compiler's tracer) takes the call instead and records a graph node. graphnet
never imports the compiler: the tracer installs itself here."""

from __future__ import annotations

import functools

import jax

from . import _autograd
from ._errors import ShapeError
from ._ops import OPS
from ._ops._checks import check_eagerly
from ._tensor import Tensor, _modes  # noqa: F401  (_modes: the active modes, innermost last)

_module_stack: list = []   # (module, path) of the nn.Module calls in progress


class push_mode:
    """Install a dispatch mode for the duration of a `with` block."""

    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        _modes.append(self.mode)
        return self.mode

    def __exit__(self, *exc):
        popped = _modes.pop()
        assert popped is self.mode


def current_mode():
    return _modes[-1] if _modes else None


def module_path() -> str:
    """Dotted path of the module whose forward is running (`features.0`), '' at top level."""
    return _module_stack[-1][1] if _module_stack else ""


_kernels: dict = {}


def _kernel(opdef, attrs_key, attrs):
    fn = _kernels.get((opdef.name, attrs_key))
    if fn is None:
        fn = _kernels[(opdef.name, attrs_key)] = jax.jit(functools.partial(opdef.impl, **attrs))
    return fn


def attrs_key(attrs: dict) -> tuple:
    return tuple(attrs.items())


def dispatch(name: str, *args, **attrs):
    """Run op `name` on `args` (Tensors or Python scalars) with static `attrs`."""
    opdef = OPS[name]
    if _modes:
        return _modes[-1].run_op(opdef, args, attrs)
    return run_eager(opdef, args, attrs)


def run_eager(opdef, args, attrs):
    key = attrs_key(attrs)
    arrays = [a._value if isinstance(a, Tensor) else a for a in args]
    if opdef.check is not None:   # out-of-range indices and labels raise, as in PyTorch
        check_eagerly(opdef, key, attrs, arrays)
    try:
        out = _kernel(opdef, key, attrs)(*arrays)
    except (TypeError, ValueError) as err:
        raise shape_error(opdef.name, args, attrs, err) from None
    outs = out if opdef.n_outputs != 1 else (out,)
    node = None
    if _autograd.grad_mode.enabled and opdef.differentiable:
        skip = opdef.nondiff_inputs
        needs = tuple(i for i, a in enumerate(args)
                      if isinstance(a, Tensor) and a.requires_grad and i not in skip)
        if needs:
            edges = tuple(_edge(args[i]) for i in needs)
            node = _autograd.op_node(opdef, key, attrs, arrays, needs, edges, outs)
    results = tuple(Tensor._wrap(o, node, i) for i, o in enumerate(outs))
    return results if opdef.n_outputs != 1 else results[0]


def _edge(t: Tensor):
    return (t.grad_fn, t._oi) if t.grad_fn is not None else (t, None)


def shape_error(op: str, args, attrs, err) -> ShapeError:
    shapes = ", ".join(str(list(a.shape)) if isinstance(a, Tensor) else repr(a) for a in args)
    where = module_path()
    prefix = f"{where}: " if where else ""
    detail = str(err).splitlines()[0] if str(err) else type(err).__name__
    return ShapeError(f"{prefix}{op}({shapes}{', ' if attrs else ''}"
                      f"{', '.join(f'{k}={v}' for k, v in attrs.items())}) failed: {detail}")


def live_scalar(read, name: str):
    """A Python number that may change between calls (a learning rate). Eagerly it is just
    `read()`; a tracer makes it a graph input that is read again on every run, so changing it
    (an lr scheduler) never forces a recompile and is never baked in stale."""
    if _modes and hasattr(_modes[-1], "live_scalar"):
        return _modes[-1].live_scalar(read, name)
    return read()


def label_state(tensor: Tensor, name: str, resolve=None) -> None:
    """Tell an active tracer what to call `tensor` if it becomes a graph input, and (with
    `resolve`) how to find the tensor in that place on a later call: a compiled call then
    reads whatever is there (optimizer state after `load_state_dict`), not this object."""
    if _modes and hasattr(_modes[-1], "label"):
        _modes[-1].label(tensor, name, resolve)


def depends_on(what: str, read) -> None:
    """Tell an active tracer that the traced code's behaviour depends on `read()` (a Python
    value it decided something with: an optimizer's `nesterov` flag). A compiled call whose
    `read()` differs recompiles with the reason `guard failed: {what}`."""
    if _modes and hasattr(_modes[-1], "depends_on"):
        _modes[-1].depends_on(what, read)
