"""Tracing: run user code once with graph values in place of arrays, recording a `Graph`.

The `Tracer` installs itself as a graphnet dispatch mode. Tensors the code receives or
touches (arguments, parameters, buffers, optimizer state, the RNG state) are *lifted*: their
payload is swapped for a graph input, so in-place updates (an optimizer step, a BatchNorm
running mean) show up as new values on the same objects. When tracing ends every lifted
tensor gets its array back, and each change becomes a graph output that the runtime writes
back after executing the compiled program.

Python side effects are the exception: a compiled call does not run the Python code. `print`
becomes part of the program (compiler/prints.py); a tensor kept past the trace receives its
value after each call and makes the next call trace again; Python state the trace changed
(compiler/python_state.py) makes the next call trace again too, so the code runs per call."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import graphnet
import jax
from graphnet import _autograd, _dispatch
from graphnet._errors import TraceError
from graphnet._mode import DispatchMode, TracedNode
from graphnet._tensor import Tensor

from . import _source
from .guards import trace_guards
from .ir import Graph, Value
from .prints import branch_print_error, record_print
from .python_state import PythonStateWatch, refuse_branch_write
from .shapes import infer_types
from .tree import flatten


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
    training_effects: list = field(default_factory=list)    # (module, flag) set by the code
    # `print` calls, in order (compiler/prints.py); their values are the graph outputs after
    # the ones `effects` describes.
    prints: list = field(default_factory=list)
    # Python state the trace changed (compiler/python_state.py): the next call traces again.
    python_changes: list = field(default_factory=list)
    # Indices into `effects` of tensors the code gave other storage (`p.data = other`): each
    # call forgets the aliases they handed out before, as eager mode does.
    new_storage: set = field(default_factory=set)
    # Per "out" output: the source (a `bindings` value) of the input tensor the output is, or
    # is a `.data` / `detach()` alias of, with its final values; None for a computed result.
    # The caller's output is an alias of that tensor, as it would be eagerly.
    out_aliases: list = field(default_factory=list)


@dataclass(eq=False)
class _Lift:
    tensor: Tensor
    placeholder: Value
    original: object
    source: tuple


class Tracer(DispatchMode):
    """The dispatch mode that records ops into `self.graph` (the hooks: graphnet/_mode.py)."""

    records_graph = True
    parent: Tracer | None = None    # the enclosing tracer of a branch (control_flow.SubTracer)

    def __init__(self, name: str = "graph", fn=None):
        self.fn = fn                # the traced callable: its globals and closure are guarded
        self.arg_objects: list = []     # the user's objects it was called with (guards.py)
        self.graph = Graph(name)
        self.lifted: dict[int, _Lift] = {}
        self.labels: dict[int, str] = {}
        self.created: list = []
        self.created_ids: set = set()
        self.grad_targets: dict[int, tuple] = {}
        self.grad_guards: dict[int, tuple] = {}
        self.modules: dict[int, tuple] = {}
        self.scalars: dict[str, tuple] = {}
        self.training_set: dict[int, tuple] = {}    # module id -> (module, last flag set)
        self.set_before_call: set = set()           # modules whose flag the code set first
        # Node -> indices of the inputs a gradient flows through, as eager mode's tape would
        # record them (grad mode on, the input requires grad, the op differentiates it).
        # `backward()` follows these, not the graph's structure (compiler/autodiff.py).
        self.grad_edges: dict = {}
        # Tensors reached through a slot that may hold another tensor on a later call (a
        # parameter's `.grad`, an optimizer's state after `load_state_dict`): id -> (what,
        # resolve). The compiled call reads and writes whatever the slot holds then.
        self.slots: dict[int, tuple] = {}
        self.reads: list = []       # guards.Read: what else the trace depended on
        self.prints: list = []      # prints.PrintEffect per print() call, in order
        self.print_values: dict = {}    # Value a print shows -> its print output's index
        self.python_state = PythonStateWatch(fn)
        self.storage_replaced: set = set()    # ids of tensors given `.data = other`

    # ---- values ---------------------------------------------------------------------------
    def value_of(self, t: Tensor) -> Value:
        v = t._value
        if isinstance(v, Value):
            if id(t) in self.lifted or id(t) in self.created_ids:
                return v
            raise TraceError("a tensor from another trace was used here; tensors created while "
                             "tracing one compiled function cannot leak into another")
        name = self.labels.get(id(t)) or self._guess_name(t)
        slot = self.slots.get(id(t))
        return self.lift(t, "state", name, ("slot", slot[1]) if slot else ("state", t))

    def lift(self, t: Tensor, kind: str, name: str, source: tuple) -> Value:
        v = t._value
        placeholder = self.graph.add_input(name, v.shape, v.dtype, kind,
                                           weak_type=getattr(v, "weak_type", False))
        self.lifted[id(t)] = _Lift(t, placeholder, v, source)
        t._value = placeholder
        return placeholder

    def _guess_name(self, t: Tensor) -> str:
        """Name a captured tensor after the parameter/buffer slot that holds it."""
        for module, path in reversed(_dispatch.module_stack()):
            for registry in ("_parameters", "_buffers"):
                for name, value in module.__dict__[registry].items():
                    if value is t:
                        return f"{path}.{name}" if path else name
        if t is graphnet.default_generator.state:
            return "rng_state"
        return "const"

    def label(self, t: Tensor, name: str, resolve=None) -> None:
        """Name `t` if it becomes a graph input; `resolve()` (optional) finds the tensor that
        holds this place on a later call."""
        self.labels.setdefault(id(t), name)
        if resolve is not None and id(t) not in self.lifted:
            self.slots.setdefault(id(t), (name, resolve))

    def depends_on(self, what: str, read) -> None:
        """The traced program is only right while `read()` returns what it returns now."""
        self.reads.append((what, read))

    def live_scalar(self, read, name: str):
        if name not in self.scalars:
            value = read()
            placeholder = self.graph.add_input(name, (), jax.numpy.result_type(value), "scalar",
                                               weak_type=True)
            t = Tensor._wrap(placeholder)
            self.created_ids.add(id(t))
            self.scalars[name] = (read, placeholder, t)
        return self.scalars[name][2]

    # ---- dispatch mode interface ------------------------------------------------------------
    def run_op(self, opdef, args, attrs):
        inputs = [self.value_of(a) if isinstance(a, Tensor) else a for a in args]
        avals = self._infer(opdef, inputs, attrs, args)
        node = self.graph.add_node(opdef.name, inputs, attrs, avals, _dispatch.module_path(),
                                   _source.user_frame())
        edges = tuple(i for i, a in enumerate(args)
                      if isinstance(a, Tensor) and a.requires_grad
                      and i not in opdef.nondiff_inputs) \
            if _autograd.grad_mode.enabled and opdef.differentiable else ()
        self.grad_edges[node] = edges
        grad = bool(edges)
        marker = self.traced_node(node) if grad else None
        outs = []
        for i, value in enumerate(node.outputs):
            t = Tensor._wrap(value, marker if grad and value.dtype.kind == "f" else None, i)
            self.on_tensor_created(t)
            outs.append(t)
        return tuple(outs) if opdef.n_outputs != 1 else outs[0]

    def traced_node(self, node) -> TracedNode:
        """The grad_fn of tensors holding `node`'s outputs: marks them as requiring grad;
        eager backward() through it, after the trace, raises a TraceError."""
        return TracedNode(node.op, [(v.shape, v.dtype) for v in node.outputs],
                          self.graph.name, node.source)

    def _infer(self, opdef, inputs, attrs, args):
        try:
            return infer_types(opdef.name, inputs, attrs)
        except (TypeError, ValueError, IndexError) as err:
            raise _dispatch.kernel_error(opdef, args, attrs, err) from None

    def on_tensor_created(self, t: Tensor) -> None:
        self.created.append(weakref.ref(t))
        self.created_ids.add(id(t))

    def on_write(self, t: Tensor) -> None:
        """`t` may be written without being read first (`p.data = ...`, through a `.data` or
        `state_dict()` alias): track it now, so its new value becomes a graph output and the
        tensor gets its array back when tracing ends."""
        self.value_of(t)

    def on_new_storage(self, t: Tensor) -> None:
        self.storage_replaced.add(id(t))

    def on_module_call(self, module) -> None:
        self.modules.setdefault(id(module), (module, module.training, _dispatch.module_path()))
        self.python_state.on_module_call(module, _dispatch.module_path())

    # ---- Python side effects (compiler/prints.py, compiler/python_state.py) --------------------
    def on_print(self, objects, sep, end, file, flush) -> None:
        if self.parent is not None:
            raise branch_print_error()
        self.prints.append(record_print(self, objects, sep, end, file, flush))

    def on_attribute_write(self, module, name: str, value) -> None:
        if self.parent is None:
            self.python_state.on_attribute_write(module, name)
        else:       # a branch: refuse a change, allow setting the value it holds
            refuse_branch_write(module, name, value)

    def on_training_set(self, module, mode: bool) -> None:
        """`module.train(mode)` / `.eval()` ran inside the traced code. The graph then does not
        depend on the flag the call finds (if the code set it before calling the module), and
        the compiled call must set it again, as the Python code would."""
        if id(module) not in self.modules:
            self.set_before_call.add(id(module))
        self.training_set[id(module)] = (module, mode)

    def on_grad_read(self, t: Tensor) -> None:
        if id(t) not in self.created_ids and id(t) not in self.grad_targets \
                and id(t) not in self.grad_guards:
            self.grad_guards[id(t)] = (t, t._grad is None)
            grad = t._grad
            if grad is not None and id(grad) not in self.lifted:
                # `.grad` is re-read on every call: `zero_grad()` and a new backward give
                # the parameter a new grad tensor, which the program must read, not the old.
                name = f"{self.labels.get(id(t)) or self._guess_name(t)}.grad"
                self.slots.setdefault(id(grad), (name, lambda t=t: t._grad))

    def on_grad_write(self, t: Tensor) -> None:
        if id(t) not in self.created_ids and id(t) not in self.grad_targets:
            self.grad_targets[id(t)] = (t, t._grad)

    def concretize(self, t: Tensor, what: str):
        frame = _source.user_frame(with_code=True)
        raise TraceError(
            f"{what} needs the value of a traced tensor, which a static graph does not have "
            f"(at {frame}).\nThis is value-dependent control flow. Two ways out:\n"
            f"  - run this code dynamically: call it uncompiled, or "
            f"graphnet.compile(..., mode='dynamic');\n"
            f"  - express it with graphnet.cond(pred, true_fn, false_fn, *operands) or "
            f"graphnet.while_loop(cond_fn, body_fn, init), which compile to lax.cond / "
            f"lax.while_loop.")

    def cond(self, pred, true_fn, false_fn, operands):
        from .control_flow import trace_cond

        before = self.python_state.changes()
        result = trace_cond(self, pred, true_fn, false_fn, operands)
        self.python_state.refuse_changes_since(before, "graphnet.cond")
        return result

    def while_loop(self, cond_fn, body_fn, carry):
        from .control_flow import trace_while

        before = self.python_state.changes()
        result = trace_while(self, cond_fn, body_fn, carry)
        self.python_state.refuse_changes_since(before, "graphnet.while_loop")
        return result

    def backward(self, root: Tensor, gradient=None, retain_graph=None) -> None:
        from .autodiff import record_backward
        from .grad_walk import use_graph

        if root.requires_grad:
            use_graph(self, [self.value_of(root)], retain_graph)
        record_backward(self, root, gradient)

    def grad(self, outputs, inputs, seeds, create_graph: bool, retain_graph: bool) -> list:
        from .grad_walk import traced_grad

        return traced_grad(self, outputs, inputs, seeds, create_graph, retain_graph)

    # ---- finishing ----------------------------------------------------------------------------
    def finish(self, returned: list) -> TraceResult:
        """The TraceResult of the code's return value, `returned[0]`. `returned` is emptied:
        no frame may keep the returned tensors alive, since a traced tensor still alive
        afterwards was kept by the code (appended to a list, stored on an object), and must
        receive its value on every call (`_finish_escaped`)."""
        graph = self.graph
        rebuild, static, out_grad, out_aliases = self._add_returned(returned.pop())
        if not graph.differentiates():
            self._cut_for_eager_backward([o.value for o in graph.outputs], out_grad)
        effects = [None] * len(graph.outputs)
        bindings, new_storage = {}, set()
        for rec in self.lifted.values():
            t, current = rec.tensor, rec.tensor._value
            bindings[rec.placeholder.name] = rec.source
            if current is not rec.placeholder:
                if not isinstance(current, Value):
                    raise TraceError(f"the compiled code assigned a concrete array to captured "
                                     f"tensor '{rec.placeholder.name}'; use an in-place update "
                                     f"(`.copy_()`) instead")
                graph.add_output("state", rec.placeholder.name, current)
                if id(t) in self.storage_replaced:
                    new_storage.add(len(effects))
                effects.append(rec.source)
            t._value = rec.original
        for read, placeholder, _ in self.scalars.values():
            bindings[placeholder.name] = ("scalar", read)
        result = TraceResult(graph, bindings, effects, rebuild, static,
                             out_requires_grad=out_grad,
                             training_effects=list(self.training_set.values()),
                             new_storage=new_storage, out_aliases=out_aliases)
        self._finish_grads(result)
        result.guards.extend(trace_guards(self))
        self._finish_escaped(result)
        result.python_changes = self.python_state.changes()
        for value, index in self.print_values.items():   # after every output `effects` has
            graph.add_output("new", f"print_{index}", value)
        result.prints = self.prints
        return result

    def _add_returned(self, output) -> tuple:
        """Add the "out" outputs: (rebuild, out_static, out_requires_grad, out_aliases)."""
        leaves, rebuild = flatten(output)
        static, out_grad, aliases = [], [], []
        for i, leaf in enumerate(leaves):
            if isinstance(leaf, Tensor):
                self.graph.add_output("out", i, self.value_of(leaf))
                out_grad.append(leaf.requires_grad)
                aliases.append(self._alias_source(leaf))
                static.append(TENSOR_SLOT)
            else:
                static.append(leaf)
        return rebuild, static, out_grad, aliases

    def _alias_source(self, t: Tensor):
        """The source of the input tensor that `t` (returned, outside autograd) is, or is a
        `.data` / `detach()` alias of with the same final values; else None."""
        if t.requires_grad:
            return None
        base = t
        while base is not None:
            rec = self.lifted.get(id(base))
            if rec is not None:
                return rec.source if base._value is t._value else None
            base = base._base
        return None

    def _cut_for_eager_backward(self, outputs: list, requires_grad: list) -> None:
        """A compiled forward joins the eager tape as one node whose VJP is `jax.vjp` of the
        whole program (runtime/artifact.py). Make its structure say what the tape says, as
        `backward()` does inside a trace: paths cut by `no_grad()`/`.detach()` get a
        `detach` node."""
        from .autodiff import _cut_untaped_paths

        leaves = {rec.placeholder for rec in self.lifted.values()
                  if rec.tensor.requires_grad and rec.placeholder.dtype.kind in "fc"}
        for value, wanted in zip(outputs, requires_grad):
            if wanted and leaves:
                _cut_untaped_paths(self, value, leaves)

    def _finish_grads(self, result: TraceResult) -> None:
        for t, original in self.grad_targets.values():
            final, t._grad = t._grad, original
            if final is None:
                result.grad_none.append(t)
            elif isinstance(final._value, Value):
                result.graph.add_output("grad", self._name_of(t), final._value)
                result.effects.append(("grad", t))
                if final is not original:
                    result.grad_replaced.append(t)
            else:
                raise TraceError("the compiled code assigned a concrete tensor to a captured "
                                 "tensor's .grad; compute it inside the function instead")
            del final

    def _name_of(self, t: Tensor) -> str:
        rec = self.lifted.get(id(t))
        return rec.placeholder.name if rec else self.labels.get(id(t), "tensor")

    def _finish_escaped(self, result: TraceResult) -> None:
        """Tensors created while tracing that are still referenced (e.g. optimizer state made
        on the first step, a loss appended to a list) must receive real values after the run,
        also when the code returned them too: the caller gets a new tensor object, and the
        list's tensor would otherwise keep a placeholder."""
        for ref in self.created:
            t = ref()
            if t is None or not isinstance(t._value, Value):
                continue
            if t._value.node is None and t._value.kind == "scalar":
                continue
            label = self.labels.get(id(t), f"new_{len(result.effects)}")
            result.graph.add_output("new", label, t._value)
            result.effects.append(("new", t))
            result.creates_state = True
        self.created.clear()
