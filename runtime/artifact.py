"""A compiled artifact: one traced, lowered and jitted graph, plus how to feed it from live
Python objects and where to write its results (parameters, optimizer state, grads)."""

from __future__ import annotations

import sys
import time

import jax
from graphnet.compiler import TraceResult
from graphnet.compiler.checks import failed_check, fill_created
from graphnet.compiler.hoist import split
from graphnet.compiler.prints import emit
from graphnet.compiler.tracing import replay_mode_effects
from graphnet import _host
from graphnet import _xla as xla
from graphnet._x64 import x64

from . import refine
from .donation_order import paired_jit
from .artifact_outputs import call_outputs
from .hoist_cache import HoistCache
from .program_store import StoredProgram
from .writeback import write_back
from .xla_timing import compile_timer

# References to an input array when only graphnet holds it: its tensor, this call's input list
# and sys.getrefcount's argument. More means a user alias, which donation would delete.
_OWNERS = 3

class Artifact:
    # whether runtime/refine.py may check this program's lowerings (plan mode's runner is
    # not one program, so it may not)
    refinable = True
    undone = False   # a failed first call took back the state its trace made: retrace

    def __init__(self, traced: TraceResult, run_fn, donate: bool, pass_stats=None,
                 trace_seconds: float = 0.0, pass_seconds: float = 0.0, hoist: bool = True,
                 make_plan=None, reuse: Artifact | None = None):
        self.traced = traced
        self.graph = traced.graph
        self.run_fn = run_fn
        if not self.graph.differentiates() or any(traced.out_history_kept):
            # its results join the tape (records_tape), whose VJP runs the program again on
            # this call's inputs: a donated buffer the forward wrote (a running mean it then
            # reads) was deleted by then, and backward() raised "Array has been deleted"
            donate = False
        self.graph_pass_stats = list(pass_stats or [])
        self.trace_seconds, self.pass_seconds = trace_seconds, pass_seconds
        # The ExecutionPlan is built on first read of `.plan` (explain(), the plan dump), by
        # `make_plan(graph) -> (plan, stat lines)`: the program above never needs it, since
        # static mode leaves fusion to XLA. A plan-mode artifact is handed its plan at once.
        self._make_plan = make_plan
        self._plan = None
        self.plan_stats: list = []
        self.plan_seconds = 0.0
        self.compile_seconds = 0.0
        self.refinement = None   # runtime/refine.py's result, after the first call
        # the XLA option set (graphnet/_xla.py) this artifact's programs are compiled with
        self.has_conv = xla.graph_has_conv(self.graph)
        self.xla_options = xla.current(self.has_conv) if jax.default_backend() == "cpu" \
            else None
        self.jax_seconds = {"jax_lowering_s": 0.0, "xla_compile_s": 0.0}
        self.calls = 0
        # Why the next call must trace again instead of running this program (None: it need
        # not): the trace created state the next call must read instead of creating again, or
        # changed Python state (compiler/python_state.py) that only the Python code repeats.
        self.retrace = None
        if traced.python_changes:
            self.retrace = f"the previous trace changed Python state (" \
                           f"{'; '.join(traced.python_changes[:3])})"
        elif traced.creates_state:
            self.retrace = "the previous trace created new state (e.g. optimizer buffers)"
        # Values of the code's print() calls follow the outputs `effects` describes.
        self.prints = traced.prints
        self.n_effects = len(traced.effects)
        # Value checks (compiler/checks.py): of the inputs, on the host before each call; of
        # values the program computes, in the program (their rows are its last output).
        self.precheck = getattr(run_fn, "precheck", None)
        self.check_sites = getattr(run_fn, "checks", ())
        inputs = self.graph.inputs
        self.sources = [traced.bindings[v.name] for v in inputs]
        written = {id(e[1]) for e in traced.effects if e is not None and e[0] in ("state", "slot")}
        # Donate the buffers of captured tensors that the program overwrites and reads at
        # most once (momentum and Adam moments, running statistics): XLA updates them in
        # place. NOTE: not a parameter, which the forward and the backward both read: XLA
        # cannot prove every read comes before the update overwrites it, so it copies the
        # donated buffer first. ResNet-18's step copied 21 MB of weights that way and ran
        # 7-14% slower than allocating new ones, while the MLP's ran 12% faster with its
        # parameters donated too: refine.py tries that (`written`) where it refines.
        # (python -m graphnet.runtime.donation_bench compares the policies.)
        self.written = [i for i, s in enumerate(self.sources)
                        if s[0] in ("state", "slot") and id(s[1]) in written]
        users = self.graph.users()
        self.donated = [i for i in self.written
                        if len(users.get(inputs[i], ())) <= 1] if donate else []
        self.read_once = list(self.donated)
        self.donates = donate   # refine.py may widen `donated` towards `written`
        # output position -> input position of the state it writes: what the next call reads
        # (refine.py times trials as a chain of calls, as a training loop runs them)
        position = {id(s[1]): i for i, s in enumerate(self.sources) if s[0] in ("state", "slot")}
        self.feedback = {o: position[id(e[1])] for o, e in enumerate(traced.effects)
                         if e is not None and e[0] in ("state", "slot") and id(e[1]) in position}
        # A graph that ran backward() itself (a training step) hands back plain results; one
        # that did not (a compiled forward) joins the eager tape, so backward() works through.
        # A returned tensor whose history no backward() in the code freed (made after the
        # step's own backward, or kept by retain_graph), or a .grad made with create_graph,
        # joins it too, as eagerly; its VJP needs this call's inputs, so none is donated.
        self.records_tape = not self.graph.differentiates() or any(
            traced.out_history_kept) or bool(traced.grads_with_history)
        self._vjp_cache: dict = {}
        self._scalars: dict = {}   # input position -> (number, its device array)
        self.grad_replaced = {id(t) for t in traced.grad_replaced}
        self.writeback_plan = None   # runtime/writeback.py's, made on the first call
        # The .grad tensors a call replaces (zero_grad() to None, then backward()), with the
        # shape and dtype of their new values: the program takes their old arrays too, donated,
        # and writes new outputs into them (`_old_grads`, `recycling`). NOTE: the MLP's static
        # step 3-4% faster, LeNet's 2%, ResNet-18's 3%, in one interleaved run each against
        # the same step allocating them. Not in plan mode, nor with in-program checks (a failed
        # check keeps the old .grad, which must then still hold its values).
        recycled = [(o, e[1], out.value.shape, out.value.dtype)
                    for o, (e, out) in enumerate(zip(traced.effects, self.graph.outputs))
                    if e is not None and e[0] == "grad" and id(e[1]) in self.grad_replaced] \
            if donate and not self.check_sites else []
        self.recycle = [r[1:] for r in recycled]
        # donated input position -> the output written into its buffer (donation_order.py):
        # a state's new value; for the k-th old .grad array (after the inputs), the new .grad
        self.into = {i: o for o, i in self.feedback.items()}
        self.into.update({len(self.sources) + k: r[0] for k, r in enumerate(recycled)})
        if reuse is not None and reuse.jitted is not None and reuse.graph == self.graph \
                and reuse.donates == self.donates and reuse.written == self.written:
            # NOTE: a retrace made to run the Python code again (it changed Python state or
            # kept a tensor) usually records the same graph: the same program, not compiled
            # again. Equal graphs have equal inputs, outputs, constants and check sites.
            self.run_fn, self.jitted, self.jitted_plain = reuse.run_fn, reuse.jitted, \
                reuse.jitted_plain
            self.program = reuse.program
            self.donated = reuse.donated     # a refinement may have widened it
            self.read_once = reuse.read_once
            self.split, self._vjp_cache = reuse.split, reuse._vjp_cache
            self.recycling = reuse.recycling
            self.refinement, self.xla_options = reuse.refinement, reuse.xla_options
            self._plan, self.plan_stats = reuse._plan, reuse.plan_stats
            if self.split is not None:
                self.hoist_cache, self.jitted_main = reuse.hoist_cache, reuse.jitted_main
            return
        # NOTE: a graph that creates state runs once, then the next call retraces. Running it
        # unjitted looked cheaper but measured 3.5 s vs 0.5 s for the MLP step (JAX compiles
        # each primitive separately op by op), so it is jitted like any other.
        # what the jitted programs trace: the lowering, or the same program stored on disk by
        # an earlier process (runtime/program_store.py), which skips JAX's tracing of it
        self.program = StoredProgram(run_fn, self.graph, len(self.check_sites)) \
            if self.refinable else run_fn
        self.jitted = paired_jit(xla.jit, self.program, self.donated, self.into,
                                 has_conv=self.has_conv, program=True)
        self.jitted_plain = xla.jit(self.program, self.has_conv, program=True) \
            if self.donated else self.jitted
        self.recycling = self._recycling_program()
        # An inference graph runs its state-only work (folded BatchNorm weights) once per
        # parameter version; the full `run_fn` stays the reference (HLO dump, tape vjp).
        pure = all(e is None for e in traced.effects)
        self.split = split(self.graph, pure) if hoist else None
        if self.split is not None:
            checks = self.check_sites or None
            self.hoist_cache = HoistCache(xla.jit(self.split.prologue_fn(checks),
                                                  self.has_conv, program=True))
            self.jitted_main = xla.jit(self.split.main_fn(checks), self.has_conv, program=True)

    def retire(self) -> None:
        """This artifact was replaced by a retrace: drop what it holds beyond what explain()
        reads (its programs, and the tensors its trace wrote to), so that a function traced
        on every call does not keep every call's program and tensors alive."""
        self.jitted = self.jitted_plain = self.hoist_cache = self.jitted_main = None
        self.stored_status = self.program_store()
        self.program = None
        self.recycling, self.recycle = None, []
        self._vjp_cache = {}
        self.traced.bindings, self.traced.effects, self.traced.guards = {}, [], []
        self.traced.grad_none, self.traced.training_effects = [], []
        self.traced.grad_replaced, self.grad_replaced = [], set()
        self.sources = []

    def program_store(self) -> str:
        """Whether this program came from the program store, was stored, or why not
        (runtime/program_store.py), for explain()."""
        status = getattr(self.program, "status", None)
        return status or getattr(self, "stored_status", None) or "not used (plan mode)"

    # ---- the plan (read only by explain(), dumps and mode="plan") ----------------------------
    @property
    def plan(self):
        """The ExecutionPlan of this artifact's graph (the same optimised graph the program
        was lowered from): its kernels, buffer lifetimes and estimated peak. Built on first
        read and kept."""
        if self._plan is None:
            if self._make_plan is None:
                raise RuntimeError(f"{self.graph.name}: this artifact was made without a "
                                   f"plan builder (make_plan), so it has no plan")
            start = time.perf_counter()
            self._plan, self.plan_stats = self._make_plan(self.graph)
            self.plan_seconds = time.perf_counter() - start
        return self._plan

    @property
    def pass_stats(self) -> list:
        """One line per pass run so far: the graph passes, then the plan passes once the
        plan has been built."""
        return self.graph_pass_stats + self.plan_stats

    # ---- guards ----------------------------------------------------------------------------
    def failed_guard(self) -> str | None:
        for guard in self.traced.guards:
            reason = guard()
            if reason is not None:
                return reason
        return None

    # ---- running ---------------------------------------------------------------------------
    def _gather(self, args) -> list:
        arrays = []
        for i, (kind, obj) in enumerate(self.sources):
            if kind == "arg":
                arrays.append(args[obj]._value)
            elif kind == "state" or kind == "made":   # made from data in the code: as traced
                arrays.append(obj._value if kind == "state" else obj)
            elif kind == "slot":            # re-read: a `.grad`, optimizer state
                arrays.append(obj()._value)
            elif kind == "arg_grad":        # this call's argument's `.grad`
                arrays.append(args[obj]._grad._value)
            else:   # the traced value on the tracing call, then live (TracedScalar)
                arrays.append(self._scalar(i, obj.value if self.calls == 0 else obj()))
        return arrays

    def _scalar(self, i: int, value):
        """Input i, a live Python number (an lr), as the device array last made for the same
        value: passed as a number, JAX puts it on the device again on every call (about 2%
        of the MLP's step)."""
        held = self._scalars.get(i)
        if held is None or held[0] != value or type(held[0]) is not type(value):
            # the number's own 64-bit, weakly typed array, as jnp.asarray makes it; NOTE:
            # device_put makes the same array without compiling a program (jnp.asarray
            # staged one: about 10 ms of the MLP's first call, 60 ms when it was the
            # process's first lowering)
            with x64():
                array = jax.device_put(value)
            held = self._scalars[i] = (value, array)
        return held[1]

    def lowered(self, args: tuple):
        """`jax.stages.Lowered` of this program for the call `args` (what the compiled function
        was called with): `.as_text()` is its StableHLO, `.compile()` XLA's executable."""
        options = {"option_set": self.xla_options} if self.refinement else {}
        return xla.jit(self.run_fn, self.has_conv, program=True,
                       **options).lower(*self._gather(args))

    def _can_donate(self, arrays: list) -> bool:
        # NOTE: a donated buffer is deleted. If anything besides its tensor still holds the
        # array (a `state_dict()` or `.detach()` alias taken earlier), skip donation this call
        # so the alias stays valid. 3 = the tensor's slot + `arrays` (this call's inputs) +
        # getrefcount's own argument. (Until issue 13 this said 2 and forgot `arrays`, so no
        # call ever donated: every step allocated fresh parameter and state buffers.)
        return all(sys.getrefcount(arrays[i]) <= _OWNERS for i in self.donated)

    def _refine(self, arrays) -> None:
        """Lowering choices and XLA options checked inside this program (runtime/refine.py);
        a refined program replaces the jitted ones before they first compile."""
        self.refinement = refine.refine(self.run_fn, arrays, self.donated, self.graph,
                                        self.has_conv, self.written if self.donates else (),
                                        self.feedback)
        r = self.refinement
        if r is None or (not r.overrides and r.option_set == self.xla_options
                         and r.donation == "read-once"):
            return
        if r.donated is not None:
            self.donated = [i for i in r.donated if i in self.written]
        elif r.donation == "written":   # a record stored before `donated` was
            self.donated = list(self.written)
        if r.overrides:
            self.run_fn = refine.wrap(self.run_fn, r.overrides)
            self.program = StoredProgram(self.run_fn, self.graph, len(self.check_sites),
                                         r.overrides)
        options = {"option_set": r.option_set}
        self.xla_options = r.option_set
        self.jitted = paired_jit(xla.jit, self.program, self.donated, self.into,
                                 has_conv=self.has_conv, program=True, **options)
        self.jitted_plain = xla.jit(self.program, self.has_conv, program=True, **options) \
            if self.donated else self.jitted
        self.recycling = self._recycling_program()

    def _recycling_program(self):
        """`jitted` that also takes the old arrays of the .grad tensors in `recycle`, donated
        and unread: XLA writes outputs of their shapes into them instead of new buffers.
        None when there are none."""
        if not self.recycle:
            return None
        n, run = len(self.sources), self.program
        options = {"option_set": self.xla_options} if self.refinement else {}
        extra = tuple(range(n, n + len(self.recycle)))
        return paired_jit(xla.jit, lambda *arrays: run(*arrays[:n]),
                          tuple(self.donated) + extra, self.into, has_conv=self.has_conv,
                          program=True, keep_unused=True, **options)

    def _old_grads(self) -> list:
        """For each .grad in `recycle`: its array, when its parameter alone holds the tensor
        and the tensor alone the array (3 references each: the holder, the local name and
        getrefcount's argument), else a fresh buffer, so that a `.grad` the user kept (or
        an alias of its array) keeps its values, as eagerly."""
        old = []
        for target, shape, dtype in self.recycle:
            grad = target._grad
            array = grad._value if grad is not None else None
            if array is None or sys.getrefcount(grad) > _OWNERS \
                    or sys.getrefcount(array) > _OWNERS or array.shape != shape \
                    or array.dtype != dtype:
                array = _host.zeros(shape, dtype)   # a new shape: no fill program to compile
            old.append(array)
            del grad, array
        return old

    def _program(self, arrays):
        """The callable this call runs on `arrays`."""
        if self.split is not None:
            return self._run_split
        if self.donated and not self._can_donate(arrays):
            return self.jitted_plain
        if self.recycling is not None:
            old, recycling = self._old_grads(), self.recycling

            def run(*a):
                try:
                    return recycling(*a, *old)
                except BaseException:   # the old arrays may be gone: no .grad, as eagerly
                    for target, _, _ in self.recycle:   # after zero_grad()
                        if target._grad is not None and target._grad._value.is_deleted():
                            target._grad = None
                    raise
            return run
        return self.jitted

    def _run_split(self, *arrays):
        s = self.split
        hoisted = self.hoist_cache.values_for([arrays[i] for i in s.prologue_inputs])
        return self.jitted_main(*[arrays[i] for i in s.main_inputs], *hoisted)

    def execute(self, args: tuple):
        arrays = self._gather(args)
        if self.precheck is not None:
            try:
                self.precheck(arrays)   # PyTorch's error, before anything runs
            except (IndexError, RuntimeError):
                fill_created(self.traced)
                self._undo_created(first=self.calls == 0)
                raise
        if self.calls == 0:
            start = time.perf_counter()
            with compile_timer() as self.jax_seconds:
                # NOTE: a program that created state runs once (the next call retraces), so
                # refining it would only cost
                if self.refinable and self.refinement is None and self.retrace is None \
                        and refine.applies(self.prints, self.split, arrays, self.graph):
                    self._refine(arrays)
                # NOTE: chosen after refining: a program chosen before held the old .grad
                # arrays (`_old_grads`), so the refined one got new zero buffers instead, of
                # another commitment than the next call's (a stored program's outputs are
                # committed to their device), and the next call compiled the program again
                fn = self._program(arrays)
                outs = fn(*arrays)
                jax.block_until_ready(outs)
            self.compile_seconds = time.perf_counter() - start
        else:
            outs = self._program(arrays)(*arrays)
        error = None
        if self.check_sites:   # read before writing back: a failed check writes back no result
            *outs, flags = outs
            error = failed_check(self.check_sites, flags, self.graph.name)
        self.calls += 1
        traced = self.traced
        results = write_back(self, args, outs, error is not None)
        if error is not None:
            self._undo_created(first=self.calls == 1)
            raise error
        for t in traced.grad_none:
            t._grad = None
        for i in traced.arg_grad_none:
            args[i]._grad = None
        replay_mode_effects(traced)    # the code's own train()/eval(), set_grad_enabled()
        if self.prints:     # the code's print() calls, in order, with this call's values
            emit(self.prints, outs[self.n_effects:])
        return self._outputs(args, arrays, results)

    def _undo_created(self, first: bool) -> None:
        """A check failed: on the traced call itself (`first`), take back the Python state
        its trace created (an optimizer's new state entries), which PyTorch never made."""
        if first and self.traced.failure_undo:
            self.undone = True   # its program starts that state again: never run it
            for undo in self.traced.failure_undo:
                undo()

    def _outputs(self, args, arrays, results):
        return call_outputs(self, args, arrays, results)
