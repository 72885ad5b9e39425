"""What a finished trace hands the runtime (`TraceResult`), and how the tracer builds it
(`FinishTrace`, a part of compiler/tracer.py's Tracer): the returned values as "out"
outputs, every lifted tensor's change as a "state" output, `.grad` writes, tensors kept past
the trace, and the guards."""

from __future__ import annotations

import types
from dataclasses import dataclass, field

from graphnet._autograd import differentiable
from graphnet._errors import TraceError
from graphnet._tensor import Tensor

from . import arg_grads, recomputed_attributes as recomputed
from .arg_grads import arg_index
from .ctx_held import ctx_only, still_alive
from .autodiff_leaves import returned_created_leaves
from .autodiff_versions import refused_outputs, saved_across_the_call, saved_tensor_ids
from .guards import trace_guards
from .ir import Graph, Value
from .made_data import MADE, binding, effect
from .tree import flatten


class TracedScalar:
    """How a program's number input (an optimizer's lr, betas ...) is read: on the call that
    traced, the value the code read where it used it (`value`); on later calls, `read()`."""
    __slots__ = ("read", "value")

    def __init__(self, read, value):
        self.read, self.value = read, value

    def __call__(self):
        return self.read()


class _TensorSlot:
    """Marks where a tensor result goes in `TraceResult.out_static` (None is a real result)."""

    def __repr__(self) -> str:
        return "<tensor>"


TENSOR_SLOT = _TensorSlot()


@dataclass(eq=False)
class TraceResult:
    """A graph plus how to feed it and where its results go."""

    graph: Graph
    bindings: dict            # input name -> ("arg", i) | ("state", Tensor) | ("scalar", read)
    effects: list             # per graph output: None for "out", else the object written to
    out_tree: object          # rebuilds the user's output structure from flat outputs
    out_static: list          # non-tensor leaves of the output by position, else TENSOR_SLOT
    grad_none: list = field(default_factory=list)   # tensors whose .grad becomes None
    # tensors whose .grad the code replaced by a new tensor (zero_grad() setting it to None,
    # then backward()) rather than updated in place: a run gives them a new .grad tensor too
    grad_replaced: list = field(default_factory=list)
    guards: list = field(default_factory=list)      # () -> None, or why it no longer holds
    creates_state: bool = False
    out_requires_grad: list = field(default_factory=list)   # per "out" output, as traced
    # per "out" output: it requires grad and no backward() in the code freed its history
    out_history_kept: list = field(default_factory=list)
    # per "out" output: its grad_fn's name when it requires grad and a backward() in the code
    # freed its history (the step's loss), else None
    out_freed: list = field(default_factory=list)
    # per "out" output: the names of the graph inputs its gradient reaches through the edges
    # the trace recorded (eager's tape: not through `x > t`, `detach()`, an index), or None
    out_tape_inputs: list = field(default_factory=list)
    training_effects: list = field(default_factory=list)    # (module, flag) set by the code
    grad_mode_effect: bool | None = None   # `set_grad_enabled(False)` left set by the code
    # `print` calls, in order (compiler/prints.py); their values are the graph outputs after
    # the ones `effects` describes.
    prints: list = field(default_factory=list)
    # Python state the trace changed (compiler/python_state.py): the next call traces again.
    python_changes: list = field(default_factory=list)
    # Callables that undo Python state the trace created (an optimizer's new state entries),
    # run when the traced call itself fails a check: PyTorch raised before creating it.
    failure_undo: list = field(default_factory=list)
    # Indices into `effects` of tensors the code gave other storage (`p.data = other`): each
    # call forgets the aliases they handed out before, as eager mode does.
    new_storage: set = field(default_factory=set)
    # Per "out" output: the source (a `bindings` value) of the input tensor the output is, or
    # is a `.data` / `detach()` alias of, with its final values; None for a computed result.
    # The caller's output is an alias of that tensor, as it would be eagerly.
    out_aliases: list = field(default_factory=list)
    # Per "out" output: what the caller gets instead of a new tensor, as eagerly, else None:
    # the source of the input tensor the code returned itself (`return model.weight`, `return
    # x`); ("grad", t) for `return p.grad` (t's .grad after the call); ("out", j) for the
    # same tensor returned again (`return y, y`); ("new", t) for a tensor the code also kept.
    out_identity: list = field(default_factory=list)
    # Per "out" output: (source, chain of views) when it is a view of a captured tensor or an
    # argument (`return model.weight[0]`, `return x.view(6, 2)[1:]`, see `_view_recipe`), or
    # ("out", j) of returned tensor j (`return y, y.t()`), else None: the caller's tensor stays
    # a view of it, as eagerly (following the source's in-place changes, writing through).
    out_views: list = field(default_factory=list)
    # Per "out" output: its (strides, offset) (graphnet/_strides.py), None for row-major;
    # whether it is an inference tensor; whether it is a leaf the code made (a leaf again).
    out_layouts: list = field(default_factory=list)
    out_inference: list = field(default_factory=list)
    out_created_leaf: list = field(default_factory=list)
    # (graph output, argument position) of each argument the code wrote in place with values
    # that require grad (`x.add_(y)`, `buf[0] = y.sum()`): it joins the call's tape node
    arg_grad_written: list = field(default_factory=list)
    # (argument position, flag) of each leaf argument whose requires_grad the code set
    arg_requires_grad: list = field(default_factory=list)
    # The placeholder names of inputs an op saved for its backward, and per "out" output
    # whether one saved it: the call's eager tape node checks their versions
    # (compiler/autodiff_versions.saved_across_the_call)
    saved_inputs: frozenset = frozenset()
    out_saved: list = field(default_factory=list)
    # {graph output: torch's error} for outputs whose backward reads what the code overwrote
    out_refused: dict = field(default_factory=dict)
    # A tensor argument's `.grad` (compiler/arg_grads.py): (position, name, was None) per
    # argument whose `.grad` the code read or set; the positions whose `.grad` it left None,
    # and those it gave a new `.grad` tensor (effects ("grad_of_arg", position))
    arg_grad_checks: tuple = ()
    arg_grad_none: list = field(default_factory=list)
    arg_grad_replaced: set = field(default_factory=set)
    attrs_with_history: list = field(default_factory=list)   # recomputed_attributes.finish


class FinishTrace:
    """The tracer's last step (Tracer.finish): its state (graph, lifted tensors, grad targets,
    created tensors) becomes a TraceResult."""

    def finish(self, returned: list) -> TraceResult:
        """The TraceResult of the code's return value, `returned[0]`. `returned` is emptied:
        no frame may keep the returned tensors alive, since a traced tensor still alive
        afterwards was kept by the code (appended to a list, stored on an object), and must
        receive its value on every call (`_finish_escaped`)."""
        graph = self.graph
        saved = saved_tensor_ids(self)
        rebuild, static, out_grad, out_aliases, identity = self._add_returned(returned.pop())
        graph.differentiated = any(out_grad)
        if not graph.differentiates():
            self._cut_for_eager_backward([o.value for o in graph.outputs], out_grad)
        effects = [None] * len(graph.outputs)
        bindings, new_storage, arg_grad_written, arg_requires_grad = {}, set(), [], []
        for rec in self.lifted.values():
            t, current = rec.tensor, rec.tensor._value
            bindings[rec.placeholder.name] = binding(rec)
            if rec.source[0] == "arg" and t.grad_fn is None and t.requires_grad != rec.history[2]:
                arg_requires_grad.append((rec.source[1], t.requires_grad))   # x.requires_grad_()
            if current is not rec.placeholder:
                if not isinstance(current, Value):
                    raise TraceError(f"the compiled code assigned a concrete array to captured "
                                     f"tensor '{rec.placeholder.name}'; use an in-place update "
                                     f"(`.copy_()`) instead")
                graph.add_output("state", rec.placeholder.name, current)
                if id(t) in self.storage_replaced:
                    new_storage.add(len(effects))
                if rec.source[0] == "arg" and t.requires_grad and t.grad_fn is not rec.history[0]:
                    # `x.add_(y)` of an argument: after the call its history is the call's
                    # node (runtime/artifact_tape.py), not the trace's
                    arg_grad_written.append((len(effects), rec.source[1]))
                    t.grad_fn, t._oi, t.requires_grad = rec.history
                effects.append(effect(rec))
            t._value = rec.original
        changed = []
        for reads in self.scalars.values():
            for read, placeholder, _, value in reads:
                bindings[placeholder.name] = ("scalar", TracedScalar(read, value))
            if len(reads) > 1:   # only the code, run again, changes it again between its uses
                values = " -> ".join(str(r[3]) for r in reads)
                changed.append(f"{reads[0][1].name}: {values} while the code ran")
        result = TraceResult(graph, bindings, effects, rebuild, static,
                             out_requires_grad=out_grad,
                             training_effects=list(self.training_set.values()),
                             new_storage=new_storage, out_aliases=out_aliases,
                             out_identity=identity, out_views=self.out_views)
        result.out_history_kept = self.out_history_kept
        result.arg_grad_written, result.arg_requires_grad = arg_grad_written, arg_requires_grad
        result.out_layouts, result.out_inference = self.out_layouts, self.out_inference
        result.out_freed, result.out_created_leaf = self.out_freed, self.out_created_leaf
        result.out_tape_inputs = self.out_tape_inputs
        result.saved_inputs, result.out_saved = saved_across_the_call(
            self, saved, self.returned_ids, self.returned_owners)
        result.out_refused = refused_outputs(self)
        arg_grads.finish(self, result)
        result.guards.extend(trace_guards(self))
        result.args_as_state = getattr(self, "args_as_state", {})   # code_reads.py
        self._finish_escaped(result)
        result.python_changes = self.python_state.changes() + self._made_callables(static) \
            + self.hook_changes()
        if not result.python_changes:   # a change no watch saw: the next call traces again too
            result.python_changes = changed
        for value, index in self.print_values.items():   # after every output `effects` has
            graph.add_output("new", f"print_{index}", value)
        result.prints = self.prints
        result.failure_undo = self.failure_undo
        return result

    def _add_returned(self, output) -> tuple:
        """Add the "out" outputs: (rebuild, out_static, out_requires_grad, out_aliases,
        out_identity)."""
        leaves, rebuild = flatten(output, objects=True, made=self.created_ids)
        static, out_grad, aliases, identity = [], [], [], []
        self.out_history_kept, self.out_views, self.out_freed = [], [], []
        self.out_tape_inputs, self.out_layouts, self.out_inference = [], [], []
        grads = {id(t._grad): t for t, _ in self.grad_targets.values() if t._grad is not None}
        first: dict = {}
        self.returned_ids, self.returned_owners = [], []   # a view's storage owner's too
        for i, leaf in enumerate(leaves):
            if isinstance(leaf, Tensor):
                self.graph.add_output("out", i, self.value_of(leaf))
                out_grad.append(leaf.requires_grad)
                self.out_history_kept.append(leaf.requires_grad
                                             and not self._history_freed(leaf))
                self.out_freed.append(leaf.grad_fn.name() if leaf.grad_fn is not None
                                      and not self.out_history_kept[-1] else None)
                self.out_tape_inputs.append(self._tape_inputs(leaf))
                aliases.append(self._alias_source(leaf))
                identity.append(self._identity(leaf, grads, first, len(identity)))
                self.out_views.append(self._view_recipe(leaf) if identity[-1] is None
                                      and aliases[-1] is None else None)
                self.returned_ids.append(id(leaf))
                self.returned_owners.append(id(leaf.__dict__.get("_storage", leaf)))
                self.out_layouts.append(leaf.__dict__.get("_layout"))
                self.out_inference.append(bool(leaf.__dict__.get("_inference")))
                static.append(TENSOR_SLOT)
            else:
                static.append(leaf)
        self.recipe_kept = set()
        self._views_of_outputs([t for t in leaves if isinstance(t, Tensor)], identity, aliases)
        self.out_created_leaf = returned_created_leaves(self, leaves, out_grad, identity)
        return rebuild, static, out_grad, aliases, identity

    def _views_of_outputs(self, tensors: list, identity: list, aliases: list) -> None:
        """`return y, y.t(), y[0]` of a `y` the trace made: each view is taken again of the
        returned `y` after the call, so writes to one reach the others as eagerly (they came
        back as separate copies)."""
        for i, t in enumerate(tensors):
            if self.out_views[i] is not None or identity[i] is not None \
                    or aliases[i] is not None or (t.__dict__.get("_view") is None
                                                  and t._alias_src is None):
                continue
            kept = self.attribute_kept
            bases = [(("out", j), base) for j, base in enumerate(tensors)
                     if base is not t and identity[j] is None]
            # a tensor the code made and kept on a module (`m.hidden = h; return h[-1]`)
            bases += [(("new", base), base) for ref in kept.values()
                      if (base := ref()) is not None and base is not t]
            for where, base in bases:
                chain = _view_chain(base, t, 8)
                if chain:
                    self.out_views[i] = where, chain
                    # the recipe keeps these traced tensors: not the code's (`_finish_escaped`),
                    # but for one the code kept on a module
                    self.recipe_kept |= {id(step[2]) for step in chain
                                         if id(step[2]) not in kept}
                    break

    def _made_callables(self, static: list) -> list:
        """A returned generator, or a closure the traced code made (`return lambda: x * 2`):
        a new object on every eager call, so the Python runs again on every call; the
        program's result is not one (a generator handed back again gave nothing)."""
        made = [leaf for leaf in static if isinstance(leaf, types.GeneratorType) or (
            isinstance(leaf, types.FunctionType) and leaf.__closure__)]
        if not made:    # the usual trace: no walk over the code that ran
            return []
        ran = {c for code, _ in getattr(self, "code_record", {}) for c in code.co_consts}
        return [f"returned a new {type(leaf).__name__}" for leaf in made
                if isinstance(leaf, types.GeneratorType) or leaf.__code__ in ran]

    def _tape_inputs(self, leaf: Tensor) -> frozenset | None:
        """Names of the graph inputs a gradient of `leaf` reaches along recorded gradient
        edges (None when it requires no grad)."""
        if not leaf.requires_grad:
            return None
        from .autodiff import _ancestors

        return frozenset(v.name for v in _ancestors(self.value_of(leaf), self.grad_edges)
                         if v.node is None)

    def _history_freed(self, leaf: Tensor) -> bool:
        """Whether a backward() the code ran without retain_graph freed part of `leaf`'s
        history (the loss it returns): a later backward through it fails, eagerly too.
        Any other returned tensor that requires grad continues the eager tape after the
        call (runtime/artifact_tape.py), even from a step that ran backward() itself."""
        freed = self.__dict__.get("freed_nodes")
        if not freed:
            return False
        from .autodiff import _ancestors

        return any(v.node in freed for v in _ancestors(self.value_of(leaf), self.grad_edges))

    def _identity(self, leaf: Tensor, grads: dict, first: dict, k: int):
        """What the caller gets for returned tensor `k` when it is an object the call keeps
        (see `TraceResult.out_identity`), else None."""
        rec = self.lifted.get(id(leaf))
        if rec is not None and rec.tensor is leaf \
                and rec.source[0] in ("arg", "state", "slot", "arg_grad"):
            return rec.source
        if id(leaf) in first:
            return ("out", first[id(leaf)])
        first[id(leaf)] = k
        if id(leaf) in grads:
            i = arg_index(self, grads[id(leaf)])
            return ("grad", grads[id(leaf)]) if i is None else ("arg_grad", i)
        return None

    def _view_recipe(self, t: Tensor):
        """For `t`, a view (or a view of a view ...) of a captured tensor (a parameter or
        buffer) or of a tensor argument: (its source, the chain of views from it to `t`, each
        (the function taking the view again from new values, the view's write-through, the
        tensor the trace took it of)); else None."""
        if t.__dict__.get("_view") is None and t._alias_src is None:
            return None
        for rec in self.lifted.values():
            if rec.source[0] in ("state", "arg"):
                chain = _view_chain(rec.tensor, t, 8)
                if chain:
                    return rec.source, chain
        return None

    def _alias_source(self, t: Tensor):
        """The source of the input tensor that `t` (returned, outside autograd) is, or is a
        `.data` / `detach()` alias of with the same final values; else None."""
        if t.requires_grad:
            return None
        base = t
        while base is not None:
            rec = self.lifted.get(id(base))
            if rec is not None:
                return rec.source if base._value is t._value and rec.source[0] != MADE \
                    else None
            base = base._alias_src
        return None

    def _cut_for_eager_backward(self, outputs: list, requires_grad: list) -> None:
        """A compiled forward joins the eager tape as one node whose VJP is `jax.vjp` of the
        whole program (runtime/artifact.py). Make its structure say what the tape says, as
        `backward()` does inside a trace: paths cut by `no_grad()`/`.detach()` get a
        `detach` node."""
        from .autodiff import _cut_untaped_paths

        leaves = {rec.placeholder for rec in self.lifted.values()
                  if rec.tensor.requires_grad and differentiable(rec.placeholder.dtype)}
        for value, wanted in zip(outputs, requires_grad):
            if wanted and leaves:
                _cut_untaped_paths(self, value, leaves)

    def _finish_escaped(self, result: TraceResult) -> None:
        """Tensors created while tracing that are still referenced (e.g. optimizer state made
        on the first step, a loss appended to a list) must receive real values after the run,
        also when the code returned them too: the caller gets a new tensor object, and the
        list's tensor would otherwise keep a placeholder."""
        alive = still_alive(self.created, [rec.tensor for rec in self.lifted.values()])
        on_ctx = ctx_only(result.graph, alive)    # a custom Function's `ctx.lam = lam`
        on_ctx |= recomputed.held_bases(self, alive)
        for t in alive:
            if not isinstance(t._value, Value) or id(t) in self.recipe_kept or id(t) in on_ctx:
                continue
            if t._value.node is None and t._value.kind == "scalar":
                continue
            if recomputed.finish(self, result, t, id(t) in self.returned_ids):
                continue
            label = self.labels.get(id(t), f"new_{len(result.effects)}")
            result.graph.add_output("new", label, t._value)
            result.effects.append(("new", t))
            result.creates_state = True
            for k, returned in enumerate(self.returned_ids):   # `losses.append(l); return l`
                # NOTE: not one that requires grad: the caller's tensor must be on the eager
                # tape (the kept one holds the trace's marker)
                if returned == id(t) and result.out_identity[k] is None \
                        and not t.requires_grad:
                    result.out_identity[k] = ("new", t)
        self.created.clear()


def _view_chain(source: Tensor, t: Tensor, depth: int) -> list | None:
    """[(forward, write-through, taken of)] per view from `source` down to `t`, following
    the views and the `.data` / `detach()` aliases each tensor handed out
    (graphnet/_aliases.py); an alias is the step (None, None, taken of). None when `t` is
    not one. NOTE: aliases count: a compiled `x[1].detach()` or `w.detach()[0]` came back
    tied to nothing, so writes to it never reached `x` and `x`'s never reached it."""
    steps = [(ref(), forward) for ref, forward, _ in source.__dict__.get("_views", ())]
    steps += [(ref(), None) for ref in source.__dict__.get("_aliases", ())]
    for view, forward in steps:
        if view is None:
            continue
        if forward is None:
            if view._alias_src is not source:
                continue
            step = (None, None, source)
        else:
            write = view.__dict__.get("_view")
            if write is None:
                continue
            step = (forward, write, source)
        if view is t:
            return [step]
        if depth > 1:
            below = _view_chain(view, t, depth - 1)
            if below:
                return [step, *below]
    return None
