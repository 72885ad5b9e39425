"""`Module.register_backward_hook`, PyTorch's deprecated non-full backward hook, run as
PyTorch runs it.

PyTorch hangs such a hook on the autograd node that made the module's (first) output, so the
hook sees that node's gradients: `grad_output` holds its outputs' gradients and `grad_input`
one entry per input of the forward's LAST operation, not per input of the module. For
nn.Linear on a matrix that operation is `addmm(bias, input, weight.t())`, so grad_input is
(bias grad, input grad, weight grad transposed); on any other rank it is a reshape of a matrix
product, so grad_input is the output gradient as a matrix. A tuple the hook returns replaces
those gradients.

graphnet records one `linear` op where PyTorch records several, so `_LAYOUTS` translates,
per op, graphnet's node gradients into PyTorch's grad_input and back. Any other op keeps its
node's layout: one entry per input, None where no gradient flows (padded to PyTorch's count
where graphnet leaves an optional input out), which is PyTorch's for an op recorded as one
ATen op of the same inputs (activations, convolutions, norms)."""

from __future__ import annotations

import warnings

from .._tensor import Tensor
from ..autograd._hooks import register_node_hook
from . import _module_hooks   # NOTE: it imports this module; read at call time

# PyTorch's input count of the op's backward node where graphnet leaves a missing bias out.
_ARITY = {"conv": 3, "layer_norm": 3, "batch_norm_train": 3, "batch_norm_eval": 3}
# Inputs of graphnet's op that are none of PyTorch's node (eval batch norm's running stats).
_NOT_INPUTS = {"batch_norm_eval": (1, 2)}
# PyTorch's output count of the op's node, where graphnet's differs (its batch norm also
# returns the batch statistics; PyTorch's group norm node also its mean and rstd).
_OUTPUTS = {"batch_norm_train": 1, "group_norm": 3}
# Ops whose Python-number second operand PyTorch wraps as a tensor input (`x * 2`: mul with
# two inputs); elsewhere (`x.pow(2)`, `1 - x`) a number is no input of the node.
_WRAPS_NUMBER = frozenset(("add", "sub", "mul", "div"))


class _NodeLayout:
    """grad_input as the node has it: one entry per floating-point input of the op (an
    integer or boolean input, a class index or a mask, is no input of PyTorch's node)."""

    def __init__(self, node):
        self.node = node
        saved = node.saved or ()
        if node.needs is None:        # a Function or a compiled forward: one per edge
            self.positions = self.inputs = tuple(range(len(node.edges)))
            return
        self.positions = node.needs
        skip = _NOT_INPUTS.get(node.name_, ())
        inputs = [i for i, v in enumerate(saved) if i not in skip and (
            _floating(v) or (v is None and i < _ARITY.get(node.name_, 0))
            or (i == 1 and node.name_ in _WRAPS_NUMBER and isinstance(v, (int, float))))]
        inputs += range(len(saved), len(saved) + _ARITY.get(node.name_, 0) - len(inputs))
        self.inputs = tuple(inputs)

    @property
    def count(self) -> int:
        return len(self.inputs)

    def to_torch(self, grads: dict, cts: list) -> tuple:
        return tuple(grads.get(p) for p in self.inputs)

    def grad_output(self, cts: list) -> tuple:
        count = _OUTPUTS.get(self.node.name_, len(cts))
        return tuple(cts[:count]) + (None,) * (count - len(cts))

    def from_torch(self, entries: tuple, cts: list, graph: bool) -> dict:
        return dict(zip(self.inputs, entries))


def _floating(value) -> bool:
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    return kind in ("f", "c", "V")   # V: bfloat16


class _LinearLayout(_NodeLayout):
    """`linear` as PyTorch records it: addmm (or mm without bias) on a matrix input, else a
    reshape of the matrix product, whose grad_input is the output gradient as a matrix."""

    def __init__(self, node):
        super().__init__(node)
        self.matrix = len(node.saved[0].shape) == 2
        self.bias = len(node.saved) > 2 and hasattr(node.saved[2], "shape")
        self.out_shape = tuple(node.out_avals[0][0])

    def to_torch(self, grads: dict, cts: list) -> tuple:
        if not self.matrix:
            features = self.out_shape[-1] if self.out_shape else 1
            return (cts[0].reshape(-1, features),)
        weight_t = None if grads.get(1) is None else grads[1].t()
        return (grads.get(2), grads.get(0), weight_t) if self.bias else \
            (grads.get(0), weight_t)

    def from_torch(self, entries: tuple, cts: list, graph: bool) -> dict:
        if not self.matrix:     # the reshape's input gradient: run linear's VJP from it
            if entries[0] is None:
                return {}
            ct = entries[0].reshape(self.out_shape)
            results = self.node.apply_graph([ct]) if graph else self.node.apply([ct._value])
            return {p: _as_tensor(g) for p, g in zip(self.positions, results)}
        if self.bias:
            bias, x, weight_t = entries
        else:
            (x, weight_t), bias = entries, None
        return {0: x, 1: None if weight_t is None else weight_t.t(), 2: bias}


class _PreluLayout(_NodeLayout):
    """PyTorch's prelu node takes the weight reshaped to broadcast: (1, C, 1, ...)."""

    def __init__(self, node):
        super().__init__(node)
        rank, self.weight_shape = len(node.saved[0].shape), tuple(node.saved[1].shape)
        count = 1
        for n in self.weight_shape:
            count *= n
        self.torch_shape = (1, count) + (1,) * (rank - 2) if rank >= 2 else self.weight_shape

    def to_torch(self, grads: dict, cts: list) -> tuple:
        weight = grads.get(1)
        return (grads.get(0), None if weight is None else weight.reshape(self.torch_shape))

    def from_torch(self, entries: tuple, cts: list, graph: bool) -> dict:
        weight = entries[1]
        return {0: entries[0], 1: None if weight is None else weight.reshape(self.weight_shape)}


_LAYOUTS = {"linear": _LinearLayout, "prelu": _PreluLayout}


def _as_tensor(g):
    return g if g is None or isinstance(g, Tensor) else Tensor._wrap(g)


def attach(module, hooks: list, args: tuple, result) -> None:
    """Hang `hooks` (the module's non-full backward hooks) on the node that made `result`'s
    first tensor, as PyTorch's Module.__call__ does."""
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) \
            if isinstance(var, dict) else var[0]
    node = var.grad_fn
    if node is None:
        return
    _module_hooks.refuse_in_trace(module)
    layout = _LAYOUTS.get(node.name_, _NodeLayout)(node)
    hooks = list(hooks)

    def run(cts, results, graph):
        return _run(module, hooks, layout, cts, results, graph)

    register_node_hook(node, run)
    _maybe_warn(args, result, node)


def _run(module, hooks, layout, cts, results, graph: bool):
    grads = {p: _as_tensor(g) for p, g in zip(layout.positions, results)}
    cts = [_as_tensor(c) for c in cts]
    grad_output = layout.grad_output(cts)
    grad_input = layout.to_torch(grads, cts)
    changed = False
    for hook in hooks:
        new = hook(module, grad_input, grad_output)
        if new is not None:
            grad_input, changed = _checked(hook, new, grad_input), True
    if not changed:
        return results
    grads = layout.from_torch(grad_input, cts, graph)
    new = [grads.get(p) for p in layout.positions]
    return [g if g is None or graph else g._value for g in new]


def _checked(hook, new, old: tuple) -> tuple:
    """PyTorch's checks of what a node hook returned."""
    name = getattr(hook, "__name__", repr(hook))
    if not isinstance(new, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(new).__name__}'")
    if len(new) != len(old):
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{len(new)}, but expected {len(old)})")
    for i, (g, before) in enumerate(zip(new, old)):
        if g is None:
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"expected Variable, but hook returned '{type(g).__name__}'")
        if before is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        if g.dtype != before.dtype:
            raise RuntimeError(f"hook '{name}' has changed the type of value (value {i}: "
                               f"was {before.dtype}, got {g.dtype})")
        if tuple(g.shape) != tuple(before.shape):
            raise RuntimeError(f"hook '{name}' has changed the size of value (value {i}: "
                               f"was {list(before.shape)}, got {list(g.shape)})")
    return new


def _maybe_warn(args: tuple, result, node) -> None:
    """PyTorch's FutureWarnings for the cases where the hook misses some gradients."""
    outputs = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(outputs, tuple) and all(isinstance(r, Tensor) for r in outputs)):
        return _warn("on a Module that does not return a single Tensor or a tuple of Tensors "
                     "is deprecated and will be removed in future versions. This hook will be "
                     "missing some of the grad_output.", True)
    if not all(isinstance(a, Tensor) for a in args):
        return _warn("on a Module that does not take as input a single Tensor or a tuple of "
                     "Tensors is deprecated and will be removed in future versions. This hook "
                     "will be missing some of the grad_input.", True)
    nodes = {id(r.grad_fn) for r in outputs if r.grad_fn is not None}
    if len(nodes) > 1:
        return _warn("when outputs are generated by different autograd Nodes is deprecated "
                     "and will be removed in future versions. This hook will be missing some "
                     "grad_output.", True)
    if nodes != {id(node)}:
        return _warn("when outputs are nested in python data structure is deprecated and "
                     "will be removed in future versions. This hook will be missing some "
                     "grad_output.", False)
    # PyTorch compares the inputs' nodes with the node's next functions: a leaf (a
    # parameter), an input needing no grad and linear's extra transpose or reshape differ
    inputs = {id(a.grad_fn) for a in args if a.grad_fn is not None}
    following = {id(t) if not isinstance(t, Tensor) else None for t, _ in node.edges}
    if inputs != following or len(node.edges) < _NodeLayout(node).count \
            or node.name_ in _LAYOUTS:
        _warn("when the forward contains multiple autograd Nodes is deprecated and will be "
              "removed in future versions. This hook will be missing some grad_input.", True)


def _warn(what: str, advice: bool) -> None:
    fix = " Please use register_full_backward_hook to get the documented behavior." \
        if advice else ""
    warnings.warn(f"Using non-full backward hooks {what}{fix}" if what.startswith("on ")
                  else f"Using a non-full backward hook {what}{fix}", FutureWarning,
                  stacklevel=6)
