"""Tensor hooks: `register_hook`, `retain_grad`, `register_post_accumulate_grad_hook`.

A leaf keeps its hooks in its own `__dict__` (a compiled backward traces them too, see
`run_leaf_hooks`). A non-leaf's hooks live on the tape node that
made it, under its output index (`TapeNode.hooks`), because the backward walk meets nodes,
not tensors; `retain_grad()` keeps a weak reference to the tensor there, so the walk can fill
its `.grad`. The walk itself is graphnet/autograd/_engine.py."""

from __future__ import annotations

import weakref
from collections import OrderedDict

from .._mode import current_mode, tracing
from .._errors import TraceError


class RemovableHandle:
    """What every `register_*hook` returns (tensor, module and optimizer hooks):
    `handle.remove()` unregisters the hook, and its options, kept in the `extra` tables
    under the same id (a module's `with_kwargs`, `always_call`). Also public as
    `graphnet.utils.hooks.RemovableHandle(hooks_dict, extra_dict=...)`, PyTorch's spelling."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, extra=(), *, extra_dict=None, _made_here=False):
        if extra_dict is not None:     # PyTorch's keyword: one table or a list of them
            extra = tuple(extra) + (tuple(extra_dict) if isinstance(extra_dict, (list, tuple))
                                    else (extra_dict,))
        self._hooks, self.extra = hooks, tuple(extra)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        # NOTE: the hook table of a tensor the traced code made is made again by every call,
        # with the hooks the code registers: not Python state the program must repeat (a
        # hook on `x.detach().requires_grad_()` inside the step traced it on every call)
        self._made_here = _made_here
        self._tell_mode()   # made just before the hook goes in

    def _tell_mode(self) -> None:
        mode = current_mode()
        if mode is not None and not self._made_here:
            for table in (self._hooks, *self.extra):
                mode.on_hook_table(table)

    def remove(self) -> None:
        if self.id in self._hooks:
            self._tell_mode()
        self._hooks.pop(self.id, None)
        for table in self.extra:
            table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _refuse_in_trace(what: str) -> None:
    # NOTE: a compiled backward is one jax.vjp: a non-leaf's gradient is never a value of its
    # own there, so a hook on it could not run. Leaf hooks run on the leaf's gradient (traced).
    if tracing():
        raise TraceError(
            f"{what} inside graphnet.compile is not supported: the compiled backward is one "
            f"jax.vjp and a non-leaf tensor's gradient never exists on its own there. Hook "
            f"a leaf (a parameter or input) instead, run this code uncompiled, or write the "
            f"gradient change as a graphnet.autograd.Function (its backward is compiled).")


def hook_name(hook) -> str:
    """The name PyTorch's errors give a hook: its `__name__`, else '<unknown>' (a partial,
    a callable object)."""
    name = getattr(hook, "__name__", None)
    return name if isinstance(name, str) else "<unknown>"


def checked_hook_result(hook, grad, result):
    """`result`, a tensor hook's replacement for gradient `grad` (a Tensor), after PyTorch's
    checks: a Tensor, of the same dtype (checked first, as there), then the same shape. A
    gradient of another shape would otherwise fail deep in a VJP, or broadcast silently into
    `.grad`."""
    from .._tensor import Tensor

    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}' (a "
                        f"tensor hook returns the new gradient as a Tensor, or None)")
    if result.dtype != grad.dtype:
        raise RuntimeError(f"hook '{hook_name(hook)}' has changed the type of value (was "
                           f"{grad.type()} got {result.type()})")
    if tuple(result.shape) != tuple(grad.shape):
        raise RuntimeError(f"hook '{hook_name(hook)}' has changed the size of value")
    return result


def run_tensor_hooks(hooks, grad):
    """Tensor hooks in registration order on `grad` (a Tensor, or None), each seeing the
    previous one's result. A hook that returns None may have changed `grad` in place
    (`g.clamp_(-1, 1)`): that change is kept, as in PyTorch, since the same Tensor goes on."""
    for fn in list(hooks.values()) if hooks else ():
        result = fn(grad)
        if result is None:
            continue
        if grad is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        grad = checked_hook_result(fn, grad, result)
    return grad


def run_leaf_hooks(leaf, grad):
    """A leaf's tensor hooks on its gradient, in order, each result replacing it, then its
    AccumulateGrad's pre-hooks, as PyTorch orders them. Inside a trace they are traced like
    the rest of the code (graphnet/compiler's backward calls this)."""
    return run_tensor_hooks(leaf_hook_order(leaf.__dict__.get("_hooks")), grad)


def leaf_hook_order(hooks):
    """A leaf's hook table with its AccumulateGrad's hooks (`_stage` 1, 2) after the tensor's
    own, each kind in registration order."""
    if hooks and any(hasattr(fn, "_stage") for fn in hooks.values()):
        return dict(sorted(hooks.items(), key=lambda item: getattr(item[1], "_stage", 0)))
    return hooks


def run_post_accumulate_hooks(leaf) -> None:
    from .._tensor import Tensor

    for fn in list((leaf_hook_order(leaf.__dict__.get("_post_hooks")) or {}).values()):
        result = fn(leaf)
        if result is None or result is leaf:   # PyTorch lets the leaf itself through too
            continue
        if not isinstance(result, Tensor):     # PyTorch's words for any hook's non-tensor
            raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
        raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _made_in_trace(t) -> bool:
    """True when `t` was made by the code being traced now."""
    return id(t) in getattr(current_mode(), "created_ids", ())


def guard_hooks(leaves) -> None:
    """A compiled backward ran these leaves' hooks while tracing: the program is right only
    while each leaf has the same hooks (a hook added or removed later recompiles). A leaf the
    traced code made itself (`x.clone().requires_grad_()`) is made again by every call, with
    the hooks the code gives it: no guard (it held the leaf alive past the trace, which then
    counted it as new state and traced again on every call)."""
    from .._dispatch import depends_on, ran_user_code

    for t in leaves:
        if _made_in_trace(t):
            ran_user_code(*t.__dict__.get("_hooks", {}).values(),
                          *t.__dict__.get("_post_hooks", {}).values())
            continue
        depends_on(f"hooks of a leaf of shape {list(t.shape)}", lambda t=t: _leaf_hooks(t))
        ran_user_code(*t.__dict__.get("_hooks", {}).values(),
                      *t.__dict__.get("_post_hooks", {}).values())


def _leaf_hooks(t):
    """The hooks a leaf holds, or None for none: a guard read on every compiled call, and
    None compares by identity, the common case costing no tuple walk."""
    hooks, post = t.__dict__.get("_hooks"), t.__dict__.get("_post_hooks")
    if not hooks and not post:
        return None
    return tuple((hooks or {}).values()), tuple((post or {}).values())


# Hooks run before and after a tape node's VJP (PyTorch's `grad_fn.register_prehook` and
# `grad_fn.register_hook`): node -> {handle id: function}. Module.register_backward_hook uses
# them too (graphnet/nn/_legacy_backward_hook.py).
_NODE_HOOKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_NODE_PRE_HOOKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def register_node_hook(node, fn) -> RemovableHandle:
    """Run `fn(cts, results, graph)` each time the backward walk applies `node`'s VJP: `cts`
    are its outputs' cotangents, `results` its inputs' (one per edge); what `fn` returns
    replaces `results`. Arrays, or Tensors with `graph` (create_graph=True)."""
    table = _NODE_HOOKS.setdefault(node, OrderedDict())
    handle = RemovableHandle(table)
    table[handle.id] = fn
    return handle


def run_node_hooks(node, cts, results, graph: bool):
    for fn in list(_NODE_HOOKS.get(node, {}).values()) if _NODE_HOOKS else ():
        results = fn(cts, results, graph)
    return results


def run_node_prehooks(node, cts, graph: bool):
    """`cts` after the node's pre-hooks (the tensor hooks of its outputs ran before)."""
    for fn in list(_NODE_PRE_HOOKS.get(node, {}).values()) if _NODE_PRE_HOOKS else ():
        cts = fn(cts, graph)
    return cts


def _as_tensors(values, graph: bool) -> tuple:
    from .._tensor import Tensor

    return tuple(v if v is None or graph else Tensor._wrap(v) for v in values)


def _as_values(tensors, graph: bool) -> list:
    return [t if t is None or graph else t._value for t in tensors]


def _replaced(hook, new, old: tuple) -> tuple:
    """A node hook's replacement for the gradients `old`, checked as PyTorch checks it."""
    if not isinstance(new, (tuple, list)):
        raise TypeError(f"expected tuple, but hook returned '{type(new).__name__}'")
    if len(new) != len(old):
        raise RuntimeError(f"hook '{hook_name(hook)}' has returned an incorrect number of "
                           f"values (got {len(new)}, but expected {len(old)})")
    return tuple(n if n is None or o is None else checked_hook_result(hook, o, n)
                 for n, o in zip(new, old))


def node_register_hook(self, fn) -> RemovableHandle:
    """`grad_fn.register_hook(fn)`: run `fn(grad_inputs, grad_outputs)` after this node's
    backward; a tuple it returns replaces `grad_inputs` (one entry per `next_functions`).

    >>> h = y.grad_fn.register_hook(lambda gi, go: print(gi, go))
    """
    _refuse_in_trace("grad_fn.register_hook")

    def run(cts, results, graph):
        # one entry per next_functions: None where an input takes no gradient
        slots = self.slots()
        grad_inputs = tuple(None if k is None else results[k]
                            for k in slots) if len(slots) != len(results) else results
        grad_inputs = _as_tensors(grad_inputs, graph)
        new = fn(grad_inputs, _as_tensors(cts, graph))
        if new is not None:
            grad_inputs = _replaced(fn, new, grad_inputs)
        if len(slots) != len(results):
            grad_inputs = [grad_inputs[slots.index(k)] for k in range(len(results))]
        return _as_values(grad_inputs, graph)    # written in place or replaced

    return register_node_hook(self, run)


def node_register_prehook(self, fn) -> RemovableHandle:
    """`grad_fn.register_prehook(fn)`: run `fn(grad_outputs)` before this node's backward; a
    tuple it returns replaces `grad_outputs`."""
    _refuse_in_trace("grad_fn.register_prehook")

    def run(cts, graph):
        grad_outputs = _as_tensors(cts, graph)
        new = fn(grad_outputs)
        if new is not None:
            grad_outputs = _replaced(fn, new, grad_outputs)
        return _as_values(grad_outputs, graph)

    table = _NODE_PRE_HOOKS.setdefault(self, OrderedDict())
    handle = RemovableHandle(table)
    table[handle.id] = run
    return handle


def accumulator_register_prehook(self, fn) -> RemovableHandle:
    """`AccumulateGrad.register_prehook(fn)`: `fn(grad_outputs)` on the leaf's incoming
    gradient before it is accumulated into `.grad`; a tuple it returns replaces it. Runs
    after the leaf's tensor hooks, as in PyTorch."""
    leaf = self.variable
    hooks = leaf.__dict__.setdefault("_hooks", OrderedDict())
    handle = RemovableHandle(hooks, _made_here=_made_in_trace(leaf))

    def pre(grad):
        new = fn((grad,))
        return None if new is None else _replaced(fn, new, (grad,))[0]

    pre._stage = 1
    hooks[handle.id] = pre
    return handle


def accumulator_register_hook(self, fn) -> RemovableHandle:
    """`AccumulateGrad.register_hook(fn)`: `fn((), (grad,))` after the leaf's gradient was
    accumulated into `.grad` and its post-accumulate hooks ran (DDP's cue that a
    parameter's gradient is ready), `grad` the gradient accumulated."""
    leaf = self.variable
    hooks = leaf.__dict__.setdefault("_hooks", OrderedDict())
    post = leaf.__dict__.setdefault("_post_hooks", OrderedDict())
    handle = RemovableHandle(post, (hooks,), _made_here=_made_in_trace(leaf))
    seen = []

    def note(grad):
        seen[:] = [grad]

    def after(_leaf):
        fn((), tuple(seen))

    note._stage, after._stage = 2, 1   # the gradient after the pre-hooks; after the tensor's
    hooks[handle.id], post[handle.id] = note, after
    return handle


def _node_slot(t):
    node = t.grad_fn
    if node.hooks is None:
        node.hooks = {}
    return node.hooks.setdefault(t._oi, [OrderedDict(), None])


def register_hook(self, hook):
    """Run `hook(grad)` whenever the gradient with respect to this tensor is computed; a
    Tensor it returns replaces the gradient. Returns a handle whose `.remove()` unregisters
    it.

    >>> h = x.register_hook(lambda g: g * 2)
    """
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is None:
        hooks = self.__dict__.setdefault("_hooks", OrderedDict())
    else:
        _refuse_in_trace("Tensor.register_hook on a non-leaf tensor")
        hooks = _node_slot(self)[0]
    handle = RemovableHandle(hooks, _made_here=_made_in_trace(self))
    hooks[handle.id] = hook
    return handle


def register_post_accumulate_grad_hook(self, hook):
    """Run `hook(tensor)` after a gradient was accumulated into this leaf's `.grad`."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    hooks = self.__dict__.setdefault("_post_hooks", OrderedDict())
    handle = RemovableHandle(hooks, _made_here=_made_in_trace(self))
    hooks[handle.id] = hook
    return handle


def retain_grad(self) -> None:
    """Fill `.grad` of this non-leaf tensor during backward (a leaf has it already)."""
    if not self.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None:
        return
    _refuse_in_trace("Tensor.retain_grad")
    _node_slot(self)[1] = weakref.ref(self)


def move_retained(t, old_node, old_oi) -> None:
    """An in-place op gave `t` a new history: a `retain_grad()` moves to it, as PyTorch
    moves it, so `.grad` is the gradient of `t`'s final value (before, that of the value it
    had when retain_grad() was called). Its other hooks stay with the old value."""
    slot = old_node.hooks.get(old_oi)
    if slot is None or slot[1] is None or slot[1]() is not t:
        return
    slot[1] = None
    if t.grad_fn is not None:
        _node_slot(t)[1] = weakref.ref(t)


def retains_grad(self) -> bool:
    """True for a non-leaf tensor whose `.grad` backward fills (after `retain_grad()`)."""
    node = self.grad_fn
    if node is None or not node.hooks or self._oi not in node.hooks:
        return False
    ref = node.hooks[self._oi][1]
    return ref is not None and ref() is self


def is_inference(self) -> bool:
    """True for a tensor made under `graphnet.inference_mode()`."""
    return bool(self.__dict__.get("_inference", False))


def attach(cls) -> None:
    """Give `Tensor` these methods (graphnet/autograd/__init__.py calls it once)."""
    cls.register_hook = register_hook
    cls.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
    cls.retain_grad = retain_grad
    cls.retains_grad = property(retains_grad)
    cls.is_inference = is_inference
    from .._autograd import TapeNode   # NOTE: grad_fn objects, which graphnet._autograd makes

    TapeNode.register_hook = node_register_hook
    TapeNode.register_prehook = node_register_prehook
    from .._autograd import AccumulateGrad

    AccumulateGrad.register_hook = accumulator_register_hook
    AccumulateGrad.register_prehook = accumulator_register_prehook
    from . import graph  # noqa: F401  (`graphnet.autograd.graph`, as `torch.autograd.graph`)
