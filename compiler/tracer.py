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

import sys
import weakref
from dataclasses import dataclass

import graphnet
import jax
import numpy as np
from graphnet import _autograd, _default_dtype, _dispatch
from graphnet._errors import TraceError
from graphnet._mode import DispatchMode, TracedNode
from graphnet._tensor import Tensor

from . import _source, arg_grads, failed_trace, recomputed_attributes
from .captured_views import derive_from_written_source
from .ir import Graph, Value
from .made_data import MadeData
from .prints import branch_print_error, record_print
from .autodiff_leaves import own_leaf_value
from .autodiff_versions import adopt_outputs, note_saved, release_own_nodes
from .code_reads import unwrap_callable
from .const_fold import folded
from .python_state import PythonStateWatch, refuse_branch_write
from .shapes import infer_types, refuse_default_change
from .structured import StructuredOps
from .value_reads import guard_value
from .trace_result import TENSOR_SLOT, FinishTrace, TraceResult  # noqa: F401  (re-exported)


@dataclass(eq=False)
class _Lift:
    tensor: Tensor
    placeholder: Value
    original: object
    source: tuple
    history: tuple = (None, None, False)   # (grad_fn, _oi, requires_grad) when lifted


class Tracer(FinishTrace, MadeData, StructuredOps, failed_trace.NotesRegistries, DispatchMode):
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
        self.attribute_kept: dict = {}   # id -> weak reference: made and kept on a module
        self.failure_undo: list = []    # TraceResult.failure_undo
        self.grad_targets: dict[int, tuple] = {}
        self.grad_guards: dict[int, tuple] = {}
        # an argument's `.grad` (compiler/arg_grads.py): position -> (name, was None), and
        # id of the `.grad` tensor the trace found -> the argument's position
        self.arg_grad_checks: dict[int, tuple] = {}
        self.arg_grad_inputs: dict[int, int] = {}
        self.modules: dict[int, tuple] = {}
        self.scalars: dict[str, list] = {}   # name -> [(read, input, tensor, value)]
        self.training_set: dict[int, tuple] = {}    # module id -> (module, last flag set)
        self.set_before_call: set = set()           # modules whose flag the code set first
        # Node -> indices of the inputs a gradient flows through, as eager mode's tape would
        # record them (grad mode on, the input requires grad, the op differentiates it).
        # `backward()` follows these, not the graph's structure (compiler/autodiff.py).
        self.grad_edges: dict = {}
        self.leaf_own: dict = {}    # id -> an alias leaf's own values (autodiff_leaves.py)
        # node -> what its backward reads, with versions (compiler/autodiff_versions.py)
        self.saved_versions: dict = {}
        self.alias_written: set = set()   # ids of tensors written through an alias
        # Tensors reached through a slot that may hold another tensor on a later call (a
        # parameter's `.grad`, an optimizer's state after `load_state_dict`): id -> (what,
        # resolve). The compiled call reads and writes whatever the slot holds then.
        self.slots: dict[int, tuple] = {}
        self.reads: list = []       # (what, read): what else the trace depended on
        self.hook_tables: dict = {}     # id -> (hook table, its items before the trace)
        self.refusals: list = []    # TraceErrors made while tracing (graphnet/_errors.py)
        self.value_reads: list = []     # guards.Read: tensor values Python read (value_reads)
        self.prints: list = []      # prints.PrintEffect per print() call, in order
        self.print_values: dict = {}    # Value a print shows -> its print output's index
        self.python_state = PythonStateWatch(fn)
        self.start_default = _default_dtype._current["dtype"]   # the call's (compile key)
        self.storage_replaced: set = set()    # ids of tensors given `.data = other`
        self.user_code: list = []   # hooks, custom Functions: guarded as the function is
        self.code_record: dict = {}     # code object -> globals, of what ran (code_reads.py)

    # ---- values ---------------------------------------------------------------------------
    def value_of(self, t: Tensor) -> Value:
        v = t._value
        if isinstance(v, Value):
            if id(t) in self.lifted or id(t) in self.created_ids:
                return v
            raise TraceError("a tensor from another trace was used here; tensors created while "
                             "tracing one compiled function cannot leak into another")
        i = self.arg_grad_inputs.get(id(t))
        if i is not None:   # read from each call's argument, not this call's
            name = f"{self.arg_grad_checks[i][0]}.grad"
            return self.lift(t, "arg", name, ("arg_grad", i))
        name = self.labels.get(id(t)) or self._guess_name(t)
        placeholder = self.lift(t, "state", name, self.state_source(t, self.slots.get(id(t))))
        derive_from_written_source(self, t)   # a view of what the trace wrote: its new values
        return t._value if isinstance(t._value, Value) else placeholder

    def lift(self, t: Tensor, kind: str, name: str, source: tuple) -> Value:
        v = t._value
        placeholder = self.graph.add_input(name, v.shape, v.dtype, kind,
                                           weak_type=getattr(v, "weak_type", False))
        self.lifted[id(t)] = _Lift(t, placeholder, v, source,
                                   (t.grad_fn, t._oi, t.requires_grad))
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

    def on_user_code(self, fn) -> None:
        self.user_code.append(fn)   # as given: a partial or callable object is unwrapped
        fn, _ = unwrap_callable(fn)   # by its guards (code_reads.python_guards)
        # told before it runs: a hook that appends to a list it closes over, or counts in a
        # global, changes Python state the compiled call cannot repeat (python_state.py)
        self.python_state._watch_function(fn)

    def note_refusal(self, error) -> None:
        self.refusals.append(error)

    def forgive_refusal(self, error) -> None:
        self.refusals = [e for e in self.refusals if e is not error]

    def on_hook_table(self, table) -> None:
        # NOTE: a compiled call runs the program, not the code that registers or removes a
        # hook, so a trace that changed a hook table (a hook that removes itself after one
        # call, a hook registered on every step) is a Python change (hook_changes): its table
        # as it was before the trace's first change, compared when the trace ends
        self.hook_tables.setdefault(id(table), (table, tuple(table.items())))

    def hook_changes(self) -> list:
        """A line naming the hook tables the trace left changed, or none."""
        changed = sum(1 for table, before in self.hook_tables.values()
                      if len(before) != len(table) or any(
                          k != k0 or v is not v0 for (k0, v0), (k, v) in zip(before,
                                                                             table.items())))
        return [f"hooks registered or removed ({changed} hook table"
                f"{'s' if changed > 1 else ''})"] if changed else []

    def live_scalar(self, read, name: str):
        # NOTE: one graph input per value the trace reads, fed with the value read here, not
        # re-read when the program runs: the code may change it after its use (an lr halved
        # after `opt.step()`), and the step ran with the old value, as eagerly.
        value = read()
        held = self.scalars.get(name)
        if held is not None and type(held[-1][3]) is type(value) and held[-1][3] == value:
            return held[-1][2]
        label = name if held is None else f"{name}_{len(held)}"
        placeholder = self.graph.add_input(label, (), jax.numpy.result_type(value), "scalar",
                                           weak_type=True)
        t = Tensor._wrap(placeholder)
        self.created_ids.add(id(t))
        self.scalars.setdefault(name, []).append((read, placeholder, t, value))
        return t

    # ---- dispatch mode interface ------------------------------------------------------------
    def run_op(self, opdef, args, attrs):
        return _unwatched(self._record_op, opdef, args, attrs)

    def _record_op(self, opdef, args, attrs):
        inputs = [self.value_of(a) if isinstance(a, Tensor) else
                  a.item() if isinstance(a, (np.floating, np.integer)) else a for a in args]
        if opdef.differentiable and _autograd.grad_mode.enabled:
            for i, a in enumerate(args):   # an alias made a leaf reads a value of its own
                if isinstance(a, Tensor) and a._alias_src is not None and a.requires_grad \
                        and a.grad_fn is None and i not in opdef.nondiff_inputs:
                    inputs[i] = own_leaf_value(self, a, inputs[i])
        avals = self._infer(opdef, inputs, attrs, args)
        node = self.graph.add_node(opdef.name, inputs, attrs, avals, _dispatch.module_path(),
                                   _source.user_frame())
        edges = tuple(i for i, a in enumerate(args)
                      if isinstance(a, Tensor) and a.requires_grad
                      and i not in opdef.nondiff_inputs) \
            if _autograd.grad_mode.enabled and opdef.differentiable else ()
        if edges:
            _autograd.refuse_saved_inference(opdef.name, inputs, args)
        self.grad_edges[node] = edges
        grad = bool(edges)
        marker = self.traced_node(node) if grad else None
        outs = []
        for i, value in enumerate(node.outputs):
            t = Tensor._wrap(value, marker if grad and _autograd.floating(value.dtype) else None, i)
            self.on_tensor_created(t)
            outs.append(t)
        if _autograd.grad_mode.inference:   # made under inference_mode(), as eagerly
            _autograd.mark_inference(outs)
        if grad:
            note_saved(self, node, args, outs)
        return tuple(outs) if opdef.n_outputs != 1 else outs[0]

    def traced_node(self, node) -> TracedNode:
        """The grad_fn of tensors holding `node`'s outputs: marks them as requiring grad;
        eager backward() through it, after the trace, raises a TraceError."""
        # a class named as PyTorch's node (`MeanBackward0`), so that `rename_node` gives it the
        # overload's name (`x.mean(1)`: MeanBackward1) as eagerly
        cls = _autograd.named_class(TracedNode, _autograd.backward_name(node.op))
        return cls(node.op, [(v.shape, v.dtype) for v in node.outputs], self.graph.name,
                   node.source)

    def _infer(self, opdef, inputs, attrs, args):
        try:
            avals = infer_types(opdef.name, inputs, attrs)
        except (TypeError, ValueError, IndexError, NameError) as err:
            raise _dispatch.kernel_error(opdef, args, attrs, err) from None
        if _default_dtype._current["dtype"] is not self.start_default:
            refuse_default_change(self.start_default, opdef.name, inputs, attrs, avals)
        return avals

    def on_tensor_created(self, t: Tensor) -> None:
        self.created.append(weakref.ref(t))
        self.created_ids.add(id(t))

    def on_write(self, t: Tensor) -> None:
        """`t` may be written without being read first (`p.data = ...`, through a `.data` or
        `state_dict()` alias): track it now, so its new value becomes a graph output and the
        tensor gets its array back when tracing ends."""
        self.value_of(t)

    def on_inplace(self, t: Tensor, result: Tensor, version: int) -> None:
        """`t` was written in place with `result` (its version is now `version`)."""
        adopt_outputs(self, t, result, version)
        release_own_nodes(self, t, self.value_of(result), version)

    def on_new_storage(self, t: Tensor) -> None:
        self.storage_replaced.add(id(t))

    def on_alias_write(self, t: Tensor) -> None:
        """`t` was written through a `.data` / `detach()` alias: its values changed, its version
        did not; a backward reads the new values where it would after `t.data = ...`."""
        self.alias_written.add(id(t))

    def on_module_call(self, module) -> None:
        self.modules.setdefault(id(module), (module, module.training, _dispatch.module_path()))
        self.python_state.on_module_call(module, _dispatch.module_path())
        failed_trace.note_registries(self, module)   # put back if the trace fails

    # ---- Python side effects (compiler/prints.py, compiler/python_state.py) --------------------
    def on_print(self, objects, sep, end, file, flush) -> None:
        if self.parent is not None:
            raise branch_print_error()
        self.prints.append(record_print(self, objects, sep, end, file, flush))

    def recomputed_attribute(self, module, name: str, value, old) -> None:
        recomputed_attributes.note(self, module, name, value, old)

    def on_missing_attribute(self, module, name: str) -> None:
        recomputed_attributes.note_missing(self, module, name)

    def on_attribute_write(self, module, name: str, value) -> None:
        if isinstance(value, Tensor) and id(value) in self.created_ids:
            # a tensor the code made: set anew each call unless the old one is read (then
            # escaped: recomputed_attributes.py); noted, so a returned view of it stays one
            self.attribute_kept[id(value)] = weakref.ref(value)   # (`m.h = h; return h[-1]`)
            recomputed_attributes.note(self, module, name, value,
                                       module.__dict__.get(name, recomputed_attributes.MISSING))
            return
        # NOTE: another tensor (`self.prev = x`, an argument) is a change of Python state:
        # a compiled call would keep the first call's object, so the next call traces again
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
        i = arg_grads.arg_index(self, t)
        if i is not None:
            if id(t) not in self.grad_targets:
                arg_grads.note(self, t, i)
            return
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
        i = arg_grads.arg_index(self, t)
        if i is not None and id(t) not in self.grad_targets:
            arg_grads.note(self, t, i)
        if id(t) not in self.created_ids and id(t) not in self.grad_targets:
            self.grad_targets[id(t)] = (t, t._grad)

    def on_value_read(self, t: Tensor, what: str) -> None:
        if id(t) not in self.created_ids:
            guard_value(self, t, t._value, what)

    def concretize(self, t: Tensor, what: str):
        rec = self.lifted.get(id(t))
        if rec is not None and rec.source[0] != "arg" and t._value is rec.placeholder:
            # a captured tensor (parameter, buffer, optimizer state) the code left as is: its
            # values as when traced, guarded; an argument's values change from call to call
            guard_value(self, t, rec.original, what)
            return rec.original
        known = folded(self, t._value, what)   # computed from constants only
        if known is not None:
            return known
        frame = _source.user_frame(with_code=True)
        raise TraceError(
            f"{what} needs the value of a traced tensor, which a static graph does not have "
            f"(at {frame}).\nA Python value read from a tensor (`.item()`, `float()`, "
            f"`int()`, `if t:`) depends on the data. Ways out:\n"
            f"  - to report a number (a loss to log), return the tensor and read it after "
            f"the call;\n"
            f"  - run this code dynamically: call it uncompiled, or "
            f"graphnet.compile(..., mode='dynamic');\n"
            f"  - express it with graphnet.cond(pred, true_fn, false_fn, *operands) or "
            f"graphnet.while_loop(cond_fn, body_fn, init), which compile to lax.cond / "
            f"lax.while_loop.")

    def backward(self, root: Tensor, gradient=None, retain_graph=None) -> None:
        from .autodiff import record_backward
        from .grad_walk import use_graph

        if root.requires_grad:
            use_graph(self, [self.value_of(root)], retain_graph)
        # NOTE: the user's hooks it runs are guarded as registered (guards.FunctionGuard)
        _unwatched(record_backward, self, root, gradient)

    def grad(self, outputs, inputs, seeds, create_graph: bool, retain_graph: bool) -> list:
        from .grad_walk import traced_grad

        return traced_grad(self, outputs, inputs, seeds, create_graph, retain_graph)

    def reached_leaves(self, tensors) -> list | None:
        from .grad_walk import reached_leaves

        return None if self.parent is not None else reached_leaves(self, tensors)

    def _name_of(self, t: Tensor) -> str:
        rec = self.lifted.get(id(t))
        return rec.placeholder.name if rec else self.labels.get(id(t), "tensor")


def _unwatched(fn, *args):
    """`fn(*args)`, graphnet's own work (recording an op, a backward), with the recorder of
    the code that runs (code_reads.CodeRecorder) switched off: while any trace function is
    set, CPython runs every bytecode unspecialized, and this is most of a trace's calls. Left
    on when a debugger's or coverage tool's trace function is chained to it."""
    trace = sys.gettrace()
    if trace is None or not getattr(trace, "records_code", False):
        return fn(*args)
    sys.settrace(None)
    try:
        return fn(*args)
    finally:
        sys.settrace(trace)
