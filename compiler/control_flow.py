"""Tracing `graphnet.cond` / `graphnet.while_loop`: each branch is traced by a `SubTracer`
into its own graph, held by the `cond` / `while_loop` node as a sub-graph attribute (the ops
and their named fields: graphnet/_ops/control.py). Tensors from the enclosing trace (or
captured parameters) that a branch reads become extra inputs of the sub-graph and of the
node."""

from __future__ import annotations

from graphnet import _autograd
from graphnet._errors import TraceError
from graphnet._tensor import Tensor

from .ir import Value
from .tracer import Tracer
from .tree import flatten


class SubTracer(Tracer):
    """Traces one branch; defers captures, state and guards to the enclosing tracer."""

    def __init__(self, parent: Tracer, name: str):
        super().__init__(name)
        self.parent = parent
        self.captured: dict = {}      # parent Value -> placeholder in this graph
        self.capture_order: list = []
        self.capture_grad: set = set()   # parent Values read through a tensor needing grad

    def value_of(self, t: Tensor) -> Value:
        # NOTE: a concrete tensor is never this graph's, whatever its id: `created_ids` keeps
        # the ids of tensors made here that died since, which Python hands out again (`eye(3)`
        # made in a vmapped function crashed the next trace, an array taken for a Value)
        if id(t) in self.created_ids and isinstance(t._value, Value):
            if self._own(t._value):
                return t._value
            # an alias made here of an outer tensor (`w.detach()`, func.grad's copy of its
            # argument): it holds the enclosing graph's value, which this graph captures.
            # NOTE: read as such, the sub-graph lowered with a value it has no input for
            # (KeyError at the first call). No gradient edge to outside: an alias is cut.
            return self._capture(t._value)
        outer = self.parent.value_of(t)
        if t.requires_grad:
            self.capture_grad.add(outer)
        return self._capture(outer)

    def _capture(self, outer: Value) -> Value:
        if outer not in self.captured:
            self.captured[outer] = self.graph.add_input(outer.name, outer.shape, outer.dtype,
                                                        "arg", weak_type=outer.weak_type)
            self.capture_order.append(outer)
        return self.captured[outer]

    def _own(self, value) -> bool:
        """Whether `value` is one of this graph's (its inputs or its nodes' outputs); the
        nodes are scanned as they are added, once each."""
        own, graph = self.__dict__.setdefault("_own_values", [set(), 0]), self.graph
        if value in own[0]:
            return True
        if own[1] > len(graph.nodes):    # nodes were removed: scan again
            own[:] = [set(), 0]
        own[0].update(graph.inputs)
        for node in graph.nodes[own[1]:]:
            own[0].update(node.outputs)
        own[1] = len(graph.nodes)
        return value in own[0]

    def live_scalar(self, read, name):
        return self.parent.live_scalar(read, name)

    def label(self, t, name, resolve=None):
        self.parent.label(t, name, resolve)

    def on_module_call(self, module):
        self.parent.on_module_call(module)

    def before_registry_change(self, module):
        self.parent.before_registry_change(module)

    def depends_on(self, what, read):
        self.parent.depends_on(what, read)

    # NOTE: a value Python reads in a branch (`m.s.item()` in a cond branch, a while_loop
    # body, a vmapped function) is guarded by the enclosing tracer: only its guards reach the
    # compiled call (a read kept here was never checked, and a later call reused the value)
    def on_value_read(self, t, what):
        if id(t) not in self.created_ids:
            self.parent.on_value_read(t, what)

    def concretize(self, t, what):
        if id(t) not in self.created_ids:
            return self.parent.concretize(t, what)
        return super().concretize(t, what)

    def on_user_code(self, fn) -> None:
        self.parent.on_user_code(fn)

    def on_training_set(self, module, mode):
        self.parent.on_training_set(module, mode)

    def on_grad_write(self, t):
        raise TraceError("assigning .grad inside a cond/while_loop branch is not supported")

    def backward(self, root, gradient=None, retain_graph=None):
        raise TraceError("backward() inside a cond/while_loop branch is not supported; call it "
                         "on the result outside the branch")


def _trace_branch(parent: Tracer, fn, operands, name: str):
    sub = SubTracer(parent, parent.graph.fresh_name(name))
    args = []
    for i, x in enumerate(operands):
        outer = parent.value_of(x)
        v = sub.graph.add_input(f"arg{i}", outer.shape, outer.dtype, "arg",
                                weak_type=outer.weak_type)
        t = Tensor._wrap(v)
        t.requires_grad = x.requires_grad
        sub.on_tensor_created(t)
        args.append(t)
    from graphnet import _dispatch

    with _dispatch.push_mode(sub):
        result = fn(*args)
    for i, t in enumerate(args):
        if t._value is not sub.graph.inputs[i]:    # (its write was dropped, silently)
            raise TraceError(f"{name}: in-place update of operand {i} inside a branch is not "
                             f"supported (torch.cond refuses input mutation too); return the "
                             f"new value instead")
    single = isinstance(result, Tensor)
    leaves, rebuild = flatten((result,) if single else result)
    leaves_in = {sub.graph.inputs[i] for i, t in enumerate(args) if t.requires_grad} | {
        sub.captured[v] for v in sub.capture_grad if v in sub.captured}
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, Tensor):
            raise TraceError(f"{name}: a branch must return tensors, got {type(leaf).__name__}")
        sub.graph.add_output("out", i, _taped(sub, leaf, leaves_in))
    for rec in parent.lifted.values():
        if isinstance(rec.tensor._value, Value) and rec.tensor._value not in _all_values(parent):
            if rec.placeholder.name == "rng_state":
                raise TraceError(f"{name}: a random op (dropout in training mode, rand, "
                                 f"randn ...) inside a branch is not supported in static mode: "
                                 f"it advances the generator in place. Draw the random "
                                 f"numbers before the cond/while_loop and pass them in")
            raise TraceError(f"{name}: in-place update of captured tensor "
                             f"'{rec.placeholder.name}' inside a branch is not supported")
    return sub, leaves, (lambda outs: outs[0]) if single else rebuild, _structure(result)


def _taped(sub, leaf: Tensor, leaves_in: set) -> Value:
    """A branch result as the tape sees it: paths a `.detach()` or `no_grad()` cut inside the
    branch are cut in its graph too (lax.cond differentiated through them: the gradient of
    `t.detach() * 2` leaked into `t`), and a result that requires no grad is detached whole."""
    from .autodiff import _cut_untaped_paths

    value = sub.value_of(leaf)
    if not leaves_in or not _autograd.differentiable(value.dtype):
        return value
    if leaf.requires_grad:
        _cut_untaped_paths(sub, value, leaves_in)
        return value
    cut = sub.graph.add_node("detach", [value], {}, [(value.shape, value.dtype)])
    sub.grad_edges[cut] = ()
    return cut.outputs[0]


def _structure(x):
    """The nesting of a branch's result (containers, dict keys), to compare the branches."""
    if isinstance(x, (tuple, list)):
        return type(x), tuple(_structure(v) for v in x)
    if isinstance(x, dict):
        return dict, tuple((k, _structure(v)) for k, v in x.items())
    return None


def _all_values(tracer):
    values = set(tracer.graph.inputs)
    for node in tracer.graph.nodes:
        values.update(node.outputs)
    return values


def _types(leaves):
    return [(tuple(t.shape), t._value.dtype) for t in leaves]


def _wrap_outputs(parent, node, requires_grad):
    outs = []
    for v in node.outputs:
        t = Tensor._wrap(v)
        t.requires_grad = requires_grad and _autograd.floating(v.dtype)
        if t.requires_grad:
            t.grad_fn = parent.traced_node(node)
        parent.on_tensor_created(t)
        outs.append(t)
    return outs


def trace_cond(parent: Tracer, pred, true_fn, false_fn, operands):
    from graphnet import _dispatch

    # nested operands (`((x, h),)`, `({"a": x},)`, a Python number among them): the branch
    # sub-graphs take their tensors, and each branch gets the operands rebuilt around them
    leaves, rebuild_operands = flatten(tuple(operands))
    operands = tuple(x for x in leaves if isinstance(x, Tensor))

    def on_tensors(fn):
        def branch(*tensors):
            it = iter(tensors)
            return fn(*rebuild_operands([next(it) if isinstance(x, Tensor) else x
                                         for x in leaves]))
        return branch

    t_sub, t_leaves, rebuild, t_tree = _trace_branch(parent, on_tensors(true_fn), operands,
                                                     "cond_true")
    f_sub, f_leaves, _, f_tree = _trace_branch(parent, on_tensors(false_fn), operands,
                                               "cond_false")
    if t_tree != f_tree:   # (the false branch's values came back in the true one's nesting)
        raise TraceError("graphnet.cond: the branches return different structures (nesting, "
                         "containers or dict keys), as torch.cond refuses too")
    if _types(t_leaves) != _types(f_leaves):
        raise TraceError(f"graphnet.cond: the branches return different types: "
                         f"{_types(t_leaves)} vs {_types(f_leaves)}")
    pred_value = parent.value_of(pred)   # a tensor: StructuredOps.cond took the rest
    operand_values = [parent.value_of(x) for x in operands]
    inputs = [pred_value, *operand_values, *t_sub.capture_order, *operand_values,
              *f_sub.capture_order]
    attrs = {"true_branch": t_sub.graph, "false_branch": f_sub.graph,
             "n_true": len(operands) + len(t_sub.capture_order)}
    avals = [(tuple(t.shape), t._value.dtype) for t in t_leaves]
    node = parent.graph.add_node("cond", inputs, attrs, avals, _dispatch.module_path(),
                                 _source_line())
    needs = [x.requires_grad for x in operands]
    grad = _record_edges(parent, node, [False, *needs, *_captured_grads(t_sub), *needs,
                                        *_captured_grads(f_sub)])
    outs = _wrap_outputs(parent, node, grad)
    return rebuild(outs)


def _captured_grads(sub: SubTracer) -> list:
    """Per captured value: whether the branch's results carry its gradient, read through a
    tensor that requires grad and on a taped path to a result.
    NOTE: `w.detach()` in a branch reads `w` too; counted, the compiled result required grad
    where eager mode's did not, and `backward()` gave `w` a zero gradient."""
    from .autodiff import _ancestors

    reached = set()
    for out in sub.graph.outputs:
        reached |= _ancestors(out.value, sub.grad_edges)
    return [v in sub.capture_grad and sub.captured[v] in reached for v in sub.capture_order]


def _record_edges(parent: Tracer, node, needs: list) -> bool:
    """Record the node's gradient edges, as the tracer does for an op: the inputs read
    through a tensor that requires grad, an operand or a tensor a branch captured (a
    non-leaf `h = w * 2` a branch reads: its gradient was lost, silently). Whether the
    outputs require grad."""
    edges = tuple(i for i, need in enumerate(needs) if need) if _grad_enabled() else ()
    parent.grad_edges[node] = edges
    return bool(edges)


def trace_while(parent: Tracer, cond_fn, body_fn, carry):
    from graphnet import _dispatch

    for i, x in enumerate(carry):
        if not isinstance(x, Tensor):   # (it failed on `x._value`)
            raise TraceError(f"graphnet.while_loop: carry item {i} is not a tensor "
                             f"({type(x).__name__} {x!r}); a compiled loop carries tensors "
                             f"only: pass graphnet.tensor({x!r}) instead")

    c_sub, c_leaves, _, _ = _trace_branch(parent, cond_fn, carry, "while_cond")
    b_sub, b_leaves, _, _ = _trace_branch(parent, body_fn, carry, "while_body")
    if _types(b_leaves) != _types(carry):
        raise TraceError(f"graphnet.while_loop: the body must return the carry's types "
                         f"{_types(carry)}, got {_types(b_leaves)}")
    if len(c_leaves) != 1 or c_leaves[0].numel() != 1:
        raise TraceError("graphnet.while_loop: cond_fn must return one scalar tensor")
    carry_values = [parent.value_of(x) for x in carry]
    inputs = [*carry_values, *c_sub.capture_order, *b_sub.capture_order]
    # NOTE: the cond graph's own inputs are carry then captures, the same order as below.
    attrs = {"cond_branch": c_sub.graph, "body_branch": b_sub.graph,
             "n_carry": len(carry), "n_cond": len(c_sub.capture_order)}
    avals = [(tuple(t.shape), t._value.dtype) for t in carry]
    node = parent.graph.add_node("while_loop", inputs, attrs, avals, _dispatch.module_path(),
                                 _source_line())
    # NOTE: the outputs require grad when the inputs do, so that backward() through the loop
    # reaches autodiff.record_backward and is refused there with an explanation (XLA's while
    # loop has no reverse-mode derivative), instead of silently giving no gradient.
    grad = _record_edges(parent, node, [x.requires_grad for x in carry]
                         + _captured_grads(c_sub) + _captured_grads(b_sub))
    return tuple(_wrap_outputs(parent, node, grad))


def _grad_enabled() -> bool:
    from graphnet._autograd import grad_mode

    return grad_mode.enabled


def _source_line() -> str:
    from . import _source

    return _source.user_frame()
