"""`Function.apply` while a graph is recorded: one `custom_function` node per call.

The node's inputs are the forward's outputs, then every tensor the backward may read (saved
with `save_for_backward`, or kept as an attribute of `ctx`), then the forward's tensor
arguments. Its kernel is the identity on the outputs under `jax.custom_vjp`; the VJP rebinds
those tensors to JAX's arrays and calls the user's `backward` on them (`_OnTracers`). The
forward's own ops were traced under no_grad, so the gradient reaches the arguments only
through this node, exactly as PyTorch's tape does."""

from __future__ import annotations

import copy

import jax
from jax.custom_derivatives import SymbolicZero

from .. import _autograd
from .._dispatch import dispatch, ran_user_code
from .._mode import DispatchMode, current_mode, push_mode
from .._ops._checks import host_error
from .._x64 import x64
from .._tensor import Tensor
from ._function_outputs import dirty_view_error, refuse_bad_dirty, tie_view
from ._function_reads import outside as _outside
from .function import _call_backward, _validate


class _OnTracers(DispatchMode):
    """Runs each op's kernel directly on JAX's tracers, as part of the program JAX is
    differentiating. NOTE: an op's value check (indices, labels) cannot raise on traced
    values inside the program: such an op is noted in `traced_reads` as (opdef, arrays,
    attrs), when given, and runs unchecked. compiler/custom_backward.py runs the backward
    again with that list to compute the checks' rows in the program. Concrete values are
    checked on the host, as eagerly.

    What the user's backward computes under `no_grad()`, or through `detach()` / `.data`, is
    a constant to a second derivative, as on PyTorch's tape: those values are wrapped in
    `stop_gradient`. (Before, JAX differentiated through them: a compiled double backward
    through `with no_grad(): s = x.exp()` gave 2e^x + 2xe^x where PyTorch gives 2e^x.)"""

    differentiated_by_jax = True   # read by Function.apply (function.py)

    def __init__(self, traced_reads: list | None = None, rebound=()):
        self.traced_reads = traced_reads
        self.rebound = {id(t) for t in rebound}   # tensors from outside, given this call's values

    def backward(self, root, gradient, retain_graph) -> None:
        """`f0.backward(g)` in the user's backward (a DEQ's implicit backward): eagerly it
        also accumulates into `.grad` of the tensors from outside it reaches (a module's
        parameters), a side effect the program cannot carry. NOTE: it ran, and left JAX's
        tracers in those `.grad`s, which every later use then failed on."""
        from .._errors import TraceError
        from .._func_tape import _reaches

        if _reaches([root], lambda leaf: not isinstance(leaf._value, jax.core.Tracer)
                    or id(leaf) in self.rebound):
            raise TraceError(
                "a custom autograd.Function's backward called backward() on a graph that "
                "reaches tensors from outside it (a module's parameters): graphnet.compile "
                "cannot accumulate into their .grad from inside the compiled gradient. Use "
                "torch.autograd.grad(..., inputs) and return the gradients, or run this code "
                "uncompiled.")
        super().backward(root, gradient, retain_graph)

    def run_op(self, opdef, args, attrs):
        arrays = [a._value if isinstance(a, Tensor) else a for a in args]
        if opdef.check is not None:
            self._check(opdef, arrays, attrs)
        out = opdef.impl(*arrays, **attrs)
        outs = out if opdef.n_outputs != 1 else (out,)
        if not _autograd.grad_mode.enabled:
            outs = tuple(jax.lax.stop_gradient(o) for o in outs)
        node = _tape_node(opdef, args, attrs, arrays, outs)
        results = tuple(Tensor._wrap(o, node if node is not None
                                     and o.dtype in _autograd.GRAD_DTYPES else None, i)
                        for i, o in enumerate(outs))
        return results if opdef.n_outputs != 1 else results[0]

    def _check(self, opdef, arrays, attrs) -> None:
        if any(isinstance(a, jax.core.Tracer) for a in arrays[opdef.check.values_from:]):
            if self.traced_reads is not None:
                self.traced_reads.append((opdef, arrays, attrs))
            return
        error = host_error(opdef.check, arrays, attrs)
        if error is not None:
            raise error

    def on_tensor_created(self, t) -> None:     # `detach()` and `.data` aliases
        t._value = jax.lax.stop_gradient(t._value)

    @staticmethod
    def once_differentiable(outputs, args=()):
        """A `@once_differentiable` backward's results: constants, as PyTorch's backward ran
        under no_grad; PyTorch's error if JAX differentiates them through an incoming
        gradient `args` that itself depends on what is differentiated (a double backward).
        Before, every derivative raised: `autograd.grad(..., create_graph=True)` of such a
        Function, then a backward, failed where PyTorch gives the numbers."""
        single = not isinstance(outputs, tuple)
        cts = [a._value for a in args if isinstance(a, Tensor)]
        wrapped = tuple(Tensor._wrap(_refuse_derivative(o._value, *cts))
                        if isinstance(o, Tensor) else o
                        for o in ((outputs,) if single else outputs))
        return wrapped[0] if single else wrapped


def _tape_node(opdef, args, attrs, arrays, outs):
    """An eager tape node for an op the backward runs under `enable_grad()` on tensors that
    require grad (`x.detach().requires_grad_()`, the recompute of a checkpoint or DEQ):
    its own `autograd.grad` walks this tape, on JAX's tracers, as eagerly."""
    if not (_autograd.grad_mode.enabled and opdef.differentiable):
        return None
    needs = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
                  and i not in opdef.nondiff_inputs)
    if not needs:
        return None
    edges = tuple((args[i].grad_fn, args[i]._oi) if args[i].grad_fn is not None
                  else (args[i], None) for i in needs)
    vjp = _autograd.make_vjp(opdef, attrs, needs)
    return _autograd.op_node(opdef.name, vjp, arrays, edges, outs, needs)


@jax.custom_jvp
def _refuse_derivative(x, *cts):
    return x


def _refuse_derivative_jvp(primals, tangents):
    if any(not isinstance(t, SymbolicZero) for t in tangents[1:]):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")
    return primals[0], jax.numpy.zeros_like(primals[0])


_refuse_derivative.defjvp(_refuse_derivative_jvp, symbolic_zeros=True)


class _Spec:
    """What one traced call needs to run the user's backward: hashed by identity."""

    def __repr__(self):   # the dumps print it: no address, so two traces print alike
        return f"<custom Function {self.cls.__qualname__}>"

    def __init__(self, cls, ctx, n_out, saved_slots, arg_positions, n_args, out_positions,
                 n_outputs):
        self.cls, self.ctx = cls, ctx
        self.n_out = n_out
        # per saved input: ("save", i) | ("attr", name) | ("save_read", i): saved and read
        # from outside too (`_outside`); ("out", i, k): `ctx.to_save[i]` is
        # tensor output k, which the backward reads as that output (no input of its own)
        self.saved_slots = saved_slots
        self.arg_positions = arg_positions    # forward argument index per tensor argument
        self.n_args = n_args
        self.out_positions = out_positions    # forward output index per tensor output
        self.n_outputs = n_outputs            # outputs of forward, tensors or not
        self._carrying = None

    @property
    def n_saved(self) -> int:
        return sum(len(slot[4]) if slot[0] == "tree" else slot[0] != "out"
                   for slot in self.saved_slots)

    def kernel(self, *arrays):
        n_out = self.n_out

        @jax.custom_vjp
        def identity(*a):
            return tuple(a[:n_out])

        def fwd(*a):   # symbolic zeros: the primals come as CustomVJPPrimal
            a = tuple(p.value for p in a)
            # NOTE: the outputs, not their inputs, are what a saved output is read as: a
            # double backward differentiates them through this rule again, as PyTorch's
            # saved output has the Function's node as its grad_fn
            outs = identity(*a)
            return outs, (a, outs)

        def bwd(res, cts):
            a, outs = res
            # an output nothing used has a symbolic zero cotangent: None for the user's
            # backward after `ctx.set_materialize_grads(False)`, as PyTorch passes, else zeros
            # (an integer output's cotangent is JAX's float0: zeros of the output's dtype)
            cts = [c if not isinstance(c, SymbolicZero) and c.dtype != jax.dtypes.float0
                   else jax.numpy.zeros(out.shape, out.dtype) if self.ctx.materialize_grads
                   else None for c, out in zip(cts, a)]
            grads = self.backward(a, outs, cts)
            return (None,) * (len(a) - len(grads)) + tuple(grads)

        identity.defvjp(fwd, bwd, symbolic_zeros=True)
        return identity(*arrays)

    def backward(self, a, outs, cts, traced_reads: list | None = None) -> list:
        """The user's backward on arrays (`a`: the node's inputs, `outs`: its outputs): one
        cotangent (or None) per tensor argument. `traced_reads` collects the checked ops it
        runs on traced indices or labels (`_OnTracers`)."""
        n_out, n_saved = self.n_out, self.n_saved
        ctx = copy.copy(self.ctx)
        saved = list(ctx.to_save)
        stored = iter(a[n_out:n_out + n_saved])
        rebound = []    # (tensor, the value this call gives it)
        for slot in self.saved_slots:
            if slot[0] == "out":
                saved[slot[1]] = Tensor._wrap(outs[slot[2]])
            elif slot[0] == "save_read":   # the very object, with this call's value
                rebound.append((saved[slot[1]], next(stored)))
            elif slot[0] == "save":
                saved[slot[1]] = _like_saved(next(stored), saved[slot[1]])
            elif slot[0] == "tree":   # `ctx.ts = (a, b)`: the container, its tensors anew
                _, name, tree, leaves, positions = slot
                leaves = list(leaves)
                for k in positions:
                    leaves[k] = Tensor._wrap(next(stored))
                setattr(ctx, name, tree.unflatten(leaves))
            elif slot[0] == "attr":
                setattr(ctx, slot[1], _like_saved(next(stored), getattr(ctx, slot[1], None)))
        ctx.to_save = tuple(saved)
        # the tensors read from outside (`_outside`), last: the program's inputs for a while
        rebound += zip([slot[1] for slot in self.saved_slots if slot[0] == "ext"], stored)
        restore = [(t, t._value) for t, _ in rebound]
        for t, value in rebound:
            t._value = value
        try:
            return self._run_backward(ctx, a[n_out + n_saved:], cts, traced_reads,
                                      [t for t, _ in rebound])
        finally:
            for t, value in restore:
                t._value = value

    def _run_backward(self, ctx, args, cts, traced_reads, rebound) -> list:
        name = f"{self.cls.__name__}Backward"
        all_cts = [None] * self.n_outputs   # None for a non-tensor output, as PyTorch passes
        for position, c in zip(self.out_positions, cts):
            all_cts[position] = None if c is None else Tensor._wrap(c)
        with x64(), push_mode(_OnTracers(traced_reads, rebound)):
            # with grad mode on, so that what the backward runs under no_grad() is told apart
            grads = _call_backward(self.cls, ctx, all_cts, self.n_args, True)
            out = []
            for position, arg in zip(self.arg_positions, args):
                g = None if not _autograd.floating(arg.dtype) else \
                    _validate(name, position, grads[position], (arg.shape, arg.dtype))
                out.append(None if g is None else g._value)
        return out

    def carrying(self, inputs, given=None) -> frozenset:
        """The node's input indices a gradient flows back to: the tensor arguments for which
        the user's backward returns a tensor. Decided from the structure of what it returns
        (None or not), by tracing it once on abstract values (`inputs`: the node's input
        Values): a leaf whose every path ends in a None gets no `.grad`, as eagerly, not
        zeros. NOTE: asked only when a backward reaches the node, so a forward-only program
        never runs the user's backward."""
        if self.ctx.materialize_grads or given is None:
            given = None
        else:   # after `set_materialize_grads(False)`: None for the outputs not reached
            given = frozenset(given)
        if self._carrying is None:
            self._carrying = {}
        if given not in self._carrying:
            a = tuple(jax.ShapeDtypeStruct(v.shape, v.dtype) for v in inputs)
            outs = a[:self.n_out]
            cts = [c if given is None or k in given else None for k, c in enumerate(outs)]
            found = []

            def record(a, outs, cts):
                found.extend(g is not None for g in self.backward(a, outs, cts))
                return ()

            try:
                with x64():   # float64 values stay float64 while it is traced
                    jax.eval_shape(record, a, outs, cts)
            except Exception:   # noqa: BLE001 — raised only if a gradient reaches it
                # a backward that raises (PyTorch's ops without a derivative, `//`): eagerly
                # it raises only when a gradient reaches the node, so here it counts as
                # carrying to every argument, and the real call raises when one does
                found[:] = [True] * self.n_args
            first = self.n_out + self.n_saved
            self._carrying[given] = frozenset(first + j for j, f in enumerate(found) if f)
        return self._carrying[given]


def apply_static(cls, ctx, args, output, record: bool, before=None):
    single = not isinstance(output, tuple)
    outs = (output,) if single else output
    tensor_outs = [o for o in outs if isinstance(o, Tensor)]
    ran_user_code(cls.forward, cls.backward, getattr(cls, "setup_context", None))
    refuse_bad_dirty(ctx, args, outs, record)
    if not record:
        return output
    out_index = {id(o): k for k, o in enumerate(tensor_outs)}
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx.dirty}
    nondiff = {id(t) for t in ctx.non_differentiable}
    saved, slots = [], []
    for i, t in enumerate(ctx.to_save):
        # as eagerly (_function_outputs.wrap_outputs): an output with the node as grad_fn
        if isinstance(t, Tensor) and id(t) in out_index and id(t) not in nondiff \
                and _autograd.differentiable(t._value.dtype) \
                and (id(t) not in input_ids or id(t) in dirty):
            slots.append(("out", i, out_index[id(t)]))
        elif isinstance(t, Tensor):
            saved.append(t)
            slots.append(("save", i))
    for name, value in vars(ctx).items():
        if isinstance(value, Tensor):
            saved.append(value)
            slots.append(("attr", name))
        elif isinstance(value, (tuple, list, dict)):    # `ctx.ts = (x.clone(), w)`
            leaves, tree = jax.tree_util.tree_flatten(
                value, is_leaf=lambda v: isinstance(v, Tensor))
            positions = [k for k, leaf in enumerate(leaves) if isinstance(leaf, Tensor)]
            if positions:
                saved += [leaves[k] for k in positions]
                slots.append(("tree", name, tree, tuple(
                    None if k in positions else leaf for k, leaf in enumerate(leaves)),
                    positions))
    known = {id(t) for t in saved}
    read = _outside(cls.backward, ctx)
    # a saved tensor the backward also reads from outside (a parameter `ctx.mod(x)` reads) is
    # given back as that very object, as in PyTorch: a new wrapper left `autograd.grad(out,
    # saved_params)` with zero gradients, silently
    also_read = {id(t) for t in read}
    slots = [("save_read", slot[1]) if slot[0] == "save" and id(ctx.to_save[slot[1]])
             in also_read else slot for slot in slots]
    for t in read:
        if id(t) not in known:
            known.add(id(t))
            saved.append(t)
            slots.append(("ext", t))    # last: `backward` binds them after the others
    saved_outputs = [slot for slot in slots if slot[0] == "out"]
    if saved_outputs:   # checked on the outputs handed back instead (_note_saved_outputs)
        ctx._saved_at = tuple((t, v) for t, v in ctx._saved_at if id(t) not in out_index)
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    spec = _Spec(cls, ctx, len(tensor_outs), slots, positions, len(args),
                 [k for k, o in enumerate(outs) if isinstance(o, Tensor)], len(outs))
    arguments = [_history_before(args[i], before[i] if before else None, id(args[i]) in dirty)
                 for i in positions]
    results = dispatch("custom_function", *tensor_outs, *saved, *arguments, spec=spec)
    results = (results,) if isinstance(results, Tensor) else results
    wrapped = []
    for o, r in zip(tensor_outs, results):
        if id(o) in nondiff:
            r.grad_fn, r.requires_grad = None, False
        elif id(o) in dirty:
            r = _rebase(o, r)
        elif id(o) in input_ids or "_view" in o.__dict__:   # as eagerly
            tie_view(cls, r, o, next(i for i, t in enumerate(outs) if t is o))
        wrapped.append(r)
    if saved_outputs:
        _note_saved_outputs(wrapped, saved_outputs)
    it = iter(wrapped)
    handed = [next(it) if isinstance(o, Tensor) else o for o in outs]
    return handed[0] if single else tuple(handed)


def _history_before(t: Tensor, value, dirty: bool) -> Tensor:
    """The argument the node differentiates: `t`, or for an input the forward wrote in
    place and marked dirty, a stand-in holding its value before the forward, whose history
    is the gradient's path (after the write, `t` holds a value made under no_grad)."""
    if not dirty or value is None or value is t._value or not t.requires_grad:
        return t
    stand_in = Tensor._wrap(value, t.grad_fn, t._oi)
    current_mode().on_tensor_created(stand_in)
    return stand_in


def _rebase(t: Tensor, result: Tensor) -> Tensor:
    """A dirty input handed back as itself (`z is h`), holding the node's output."""
    if "_storage" in t.__dict__:
        raise dirty_view_error()
    current_mode().on_write(t)
    t._value, t.grad_fn, t._oi = result._value, result.grad_fn, result._oi
    t.requires_grad = result.requires_grad
    return t


def _note_saved_outputs(outputs: list, slots: list) -> None:
    """torch's "modified by an inplace operation" error for a saved output written in place
    before backward(): the tracer follows the versions of the outputs handed back.
    NOTE: the tracer (compiler/autodiff_versions.py) recorded the node's other saved
    tensors when it ran the op, before these outputs existed."""
    from graphnet.compiler.autodiff_versions import _entry   # only reached while tracing

    tracer = current_mode()
    if not hasattr(tracer, "saved_versions"):
        return    # JAX differentiates (vmap's backward re-runs the call): no graph, no tape
    node = outputs[0]._value.node
    entries = tracer.saved_versions.setdefault(node, [])
    entries.extend(_entry(k, outputs[k], True) for _, _, k in slots)


def _like_saved(value, original) -> Tensor:
    """`value`, requiring grad when the tensor saved did, as PyTorch's `saved_tensors` gives
    the tensor itself (the adjoint method's `autograd.grad(out, (y, w))` of a saved `w`)."""
    t, wanted = Tensor._wrap(value), isinstance(original, Tensor) and original.requires_grad
    return t.requires_grad_(True) if wanted and _autograd.floating(value.dtype) else t
