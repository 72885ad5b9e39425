"""`graphnet.compile`: a callable that traces on first call, compiles, caches by guards, and
says why it recompiles."""

from __future__ import annotations

import functools
import logging
import time
import warnings
import weakref

import jax
import numpy as np
from graphnet.compiler import lower, trace_call, verify
from graphnet.compiler.arg_grads import failure as arg_grad_failure
from graphnet.compiler.hoist import describe
from graphnet.compiler.tensor_attributes import take_argument_attributes
from graphnet.compiler.tracing import graph_name
from graphnet.compiler.tree import flatten, structure
from graphnet import _autocast, _autograd, _default_dtype, _xla
from graphnet._ops import lowering_choices
from graphnet._func_vmap import vmap_active
from graphnet._mode import tracing
from graphnet._tensor import Tensor
from graphnet._x64 import x64, x64_scoped

from .cache_key import Arg, _differs, _strides_of, _validating, keyword_order
from .arg_storage import HELD, storage_checks, storage_failure, storage_pattern, storage_words
from .artifact import Artifact
from .log import log_enabled
from .serial import CALLS
from .retrace_warnings import warn_retraces
from . import shape_store, stance
from .stance import RunEagerly as _FallBack   # no cache slot left, or the stance

logger = logging.getLogger("graphnet")
MODES = ("static", "dynamic", "plan")
LIVE: weakref.WeakSet = weakref.WeakSet()   # every CompiledFunction, for compiler.reset()


class CompiledFunction:
    """What `graphnet.compile(fn)` returns. Call it like `fn`; see `.explain()`."""

    def __init__(self, fn, *, mode: str = "static", donate: bool = True, cache_size: int = 8,
                 passes=None, disable=(), debug: bool = False, name: str | None = None,
                 hoist: bool = True, checks: bool = True):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.fn, self.mode, self.donate = fn, mode, donate
        self.cache_size = cache_size
        self.passes, self.disable, self.debug = passes, tuple(disable), debug
        self.hoist = hoist
        self.checks = checks   # programs raise on out-of-range indices/labels (compiler/checks.py)
        self.name = name or graph_name(fn)
        self.cache: dict = {}
        self.artifacts: list[Artifact] = []
        self.recompile_reasons: list[str] = []
        self.fell_back = False      # the cache limit was reached at least once
        self.dynamic_calls = 0      # calls run eagerly since, for want of a cache slot
        self._last_key = None
        LIVE.add(self)

    def _key(self, leaves) -> tuple:
        parts, first, views = [], {}, False
        for i, a in enumerate(leaves):
            if isinstance(a, Tensor):
                v, d = a._value, a.__dict__
                # The same tensor passed twice is one graph input: the key says which. Views
                # and state a program holds: runtime/arg_storage.py
                views = views or a._alias_src is not None or "_storage" in d
                # whether it has history: code may branch on `x.grad_fn is None` / `is_leaf`
                parts.append(("T", v.shape, v.dtype, a.requires_grad,
                              first.setdefault(id(a), i), _strides_of(a, v.shape), HELD in d,
                              a.grad_fn is None))
            elif isinstance(a, (np.ndarray, jax.Array)):
                raise TypeError(
                    f"compiled {self.name}: input {i} is a {type(a).__module__}."
                    f"{type(a).__name__}, not a Tensor. graphnet functions take Tensors, as "
                    f"PyTorch's do: pass graphnet.as_tensor(x) (or graphnet.from_numpy(x)).")
            else:
                parts.append(("S", Arg(a)))
        # grad mode, detect_anomaly()'s NaN check, the default float dtype (`sin` of an int
        # tensor), inference_mode(), distributions' default validate_args
        mode = _autograd.grad_mode
        return (tuple(parts), (mode.enabled, mode.anomaly and mode.anomaly_check_nan,
                               _default_dtype._current["dtype"], _autocast.compile_key(),
                               mode.inference, _validating(),
                               storage_pattern(leaves) if views else None))

    def __call__(self, *args, **kwargs):
        if self.mode == "dynamic" and not stance.forces_compile() or tracing() or vmap_active():
            # inside another compiled function's trace: its code joins that graph (a compiled
            # model called by a compiled training step), as torch.compile inlines it. Under
            # graphnet.func.vmap the tensors hold JAX batch tracers, which a compiled
            # program refuses: the function runs eagerly, and vmap batches its ops.
            return self.fn(*args, **kwargs)
        if stance.runs_eagerly():      # set_stance("force_eager"): programs kept for later
            raise _FallBack()
        # NOTE: traced and run with graphnet's 64-bit types (graphnet/_x64.py): JAX's jit cache
        # is keyed on that flag, so the program must see it on every call, not only the first.
        with CALLS, x64():   # one compiled call at a time across threads (serial.py)
            artifact, flat = self._lookup(args, kwargs)
            return artifact.execute(flat)

    @x64_scoped
    def artifact_for(self, *args, **kwargs) -> Artifact:
        """This call's program, compiled if new, not run (`graphnet dump --format hlo`)."""
        return self._lookup(args, kwargs)[0]

    def _lookup(self, args: tuple, kwargs: dict):
        """(artifact, flat arguments). Keyword arguments travel as trailing positional ones,
        in `keyword_order`; their names are part of the cache key and the traced call passes
        them by name again."""
        if not kwargs and all(type(a) is Tensor for a in args):
            # the usual call, tensors only: no walk over containers
            leaves = list(args)
            key = self._key(leaves) + ((), (tuple, (None,) * len(args)))
        else:
            names = keyword_order(self, kwargs)
            args = args + tuple(kwargs[k] for k in names)
            leaves, _ = flatten(args)
            key = self._key(leaves) + (names, structure(args))
        entries = self.cache.get(key, [])
        reason, previous, last_run = None, None, None
        for artifact in entries:
            failed = artifact.failed_guard()
            if failed is None and artifact.arg_storage:
                failed = storage_failure(artifact.arg_storage, leaves)
            if failed is None and artifact.arg_attributes is not None:   # `x.scale`
                failed = artifact.arg_attributes.failure(leaves)
            if failed is None and artifact.traced.arg_grad_checks:
                failed = arg_grad_failure(artifact.traced.arg_grad_checks, leaves)
            if failed is None:
                if artifact.retrace is not None and (artifact.calls > 0 or artifact.undone):
                    reason, previous, last_run = artifact.retrace, artifact, None
                    entries.remove(artifact)
                    break
                # a later miss says what changed since this call, and for this graph
                self._last_key, self._last_artifact = key, artifact
                return artifact, leaves
            reason = f"guard failed: {failed}"
            if artifact is self.__dict__.get("_last_artifact"):
                last_run = reason
        reason = last_run or reason or self._describe_miss(key)   # the last run graph's, first
        return self._compile(key, args, reason, previous), leaves

    def _describe_miss(self, key) -> str:
        if self._last_key is None:
            return "first call"
        (old, old_grad, old_names, old_tree), (new, new_grad, new_names, new_tree) = \
            self._last_key, key
        if old_names != new_names:
            return f"keyword arguments {list(old_names)} -> {list(new_names)}"
        if len(old_tree[1]) != len(new_tree[1]):
            return f"{len(old_tree[1])} -> {len(new_tree[1])} arguments"
        if old_tree != new_tree:
            return "the nesting of the arguments changed"
        n_pos = len(new) - len(new_names)
        for i, (a, b) in enumerate(zip(old, new)):
            if a is not b and _differs(a, b):
                what = f"input {i}" if i < n_pos else f"keyword {new_names[i - n_pos]}"
                if a[0] == b[0] == "T" and a[1] != b[1]:
                    return f"{what} shape {_dims(a[1])} -> {_dims(b[1])}"
                if a[0] == b[0] == "T" and a[2] != b[2]:
                    return f"{what} dtype {a[2]} -> {b[2]}"
                if a[0] == b[0] == "T" and a[4] != b[4]:
                    return f"{what} is {'another' if b[4] == i else 'the same'} tensor as " \
                           f"input {a[4] if b[4] == i else b[4]} now"
                if a[0] == b[0] == "T" and a[6] != b[6]:
                    return f"{what} is {'' if b[6] else 'no longer '}state a program holds"
                if a[0] == b[0] == "T" and a[7] != b[7]:
                    return f"{what} is {'a leaf' if b[7] else 'no leaf'} now (grad_fn " \
                           f"{'None' if b[7] else 'set'})"
                if a[0] == b[0] == "T" and a[5] != b[5]:
                    return f"{what} strides {a[5] or 'contiguous'} -> {b[5] or 'contiguous'}"
                if a[0] == b[0] == "S":
                    return f"{what} changed: {a[1]!r} -> {b[1]!r}"
                return f"{what} changed: {a[1:]} -> {b[1:]}"
        if old_grad[0] != new_grad[0]:
            return f"grad mode {old_grad[0]} -> {new_grad[0]}"
        if old_grad[1] != new_grad[1]:
            return f"anomaly detection {old_grad[1]} -> {new_grad[1]}"
        if old_grad[2] != new_grad[2]:
            return f"default dtype {old_grad[2]} -> {new_grad[2]}"
        if old_grad[4] != new_grad[4]:
            return f"inference mode {old_grad[4]} -> {new_grad[4]}"
        if old_grad[5] != new_grad[5]:
            return f"distributions' default validate_args {old_grad[5]} -> {new_grad[5]}"
        if old_grad[-1] != new_grad[-1]:
            return f"argument storage: {storage_words(old_grad[-1])} -> " \
                   f"{storage_words(new_grad[-1])}"
        return "new input signature"

    def _compile(self, key, args, reason: str, previous: Artifact | None = None) -> Artifact:
        """Trace, optimise and compile a new artifact. `previous`: the artifact this call
        traces again after (its trace created state or changed Python state); when the new
        graph is the same, its compiled program is reused instead of compiled again."""
        stance.before_compile(self, reason, key, previous)   # set_stance(...)
        n_graphs = sum(len(v) for v in self.cache.values())
        if n_graphs >= self.cache_size:
            if not self.fell_back:
                warnings.warn(
                    f"graphnet.compile({self.name}): {n_graphs} graphs compiled, the cache "
                    f"limit (cache_size={self.cache_size}). Calls that match a compiled graph "
                    f"keep running compiled; new input shapes or changed objects now run "
                    f"dynamically (eagerly), without compiling. Raise cache_size if that is "
                    f"the hot path. Reason of this miss: {reason}", stacklevel=_user_level())
            self.fell_back = True
            self.dynamic_calls += 1
            raise _FallBack()
        self.recompile_reasons.append(reason)
        if log_enabled("recompiles"):
            logger.warning("graphnet: compiling %s (%s)", self.name, reason)
        start = time.perf_counter()
        shape_store.attach()    # op output types a former process already inferred
        traced = trace_call(self.fn, args, self.name, keywords=key[2])
        traced_at = time.perf_counter()
        warn_retraces(self, traced, reason, _user_level())
        if self.debug:
            verify(traced.graph)
        traced.graph, stats = self._run_graph_passes(traced)
        passes_at = time.perf_counter()
        if log_enabled("graphs"):
            logger.warning("graphnet: graph for %s:\n%s", self.name, traced.graph)
        make_plan = functools.partial(_plan_passes, self.name, self.passes, self.disable,
                                      self.debug)
        if self.mode == "plan":
            from .plan_executor import PlanArtifact

            artifact = PlanArtifact(traced, make_plan, stats, traced_at - start,
                                    passes_at - traced_at, checks=self.checks, reuse=previous)
        else:   # static: the whole graph in one jax.jit, XLA fuses; a plan only if read
            artifact = Artifact(traced, lower(traced.graph, self.checks), self.donate, stats,
                                traced_at - start, passes_at - traced_at, self.hoist,
                                make_plan=make_plan, reuse=previous)
        artifact.arg_storage = storage_checks(artifact, flatten(args)[0])
        # the attributes of tensor arguments the code read (compiler/tensor_attributes.py)
        artifact.arg_attributes = take_argument_attributes(traced.guards)
        if previous is not None:
            previous.retire()
        self.cache.setdefault(key, []).append(artifact)
        self.artifacts.append(artifact)
        self._last_key, self._last_artifact = key, artifact
        shape_store.flush()
        return artifact

    def _run_graph_passes(self, traced):
        """The graph passes over the traced graph: (optimised Graph, stat lines). The plan
        passes run later, on this graph, when the plan is needed (`_plan_passes`)."""
        from graphnet.compiler.passes import run_graph_passes

        graph, stats = run_graph_passes(traced, self.passes, self.disable, self.debug)
        _log_passes(self.name, stats)
        return graph, stats

    # ---- introspection -----------------------------------------------------------------------
    @property
    def graph(self):
        """The most recently compiled graph (after passes)."""
        if not self.artifacts:
            raise RuntimeError(f"{self.name} compiled no graph yet: " + (
                "mode='dynamic' runs eagerly and compiles none" if self.mode == "dynamic"
                else "call it once with example inputs first"))
        return self.artifacts[-1].graph

    def explain(self) -> dict:
        """Graphs compiled, why, their size and where the time went."""
        return {
            "name": self.name, "mode": self.mode, "graphs": len(self.artifacts),
            "recompile_reasons": list(self.recompile_reasons), "fell_back": self.fell_back,
            "dynamic_calls": self.dynamic_calls,
            "per_graph": [{
                "ops": len(a.graph.nodes), "kernels": len(a.plan.order), "plan": str(a.plan),
                "inputs": len(a.graph.inputs),
                "outputs": len(a.graph.outputs), "calls": a.calls, "pass_stats": a.pass_stats,
                "hoisted": describe(a.split) if getattr(a, "split", None) else "nothing",
                "trace_s": a.trace_seconds, "passes_s": a.pass_seconds,
                "plan_s": a.plan_seconds,
                "first_run_s (XLA compile + run)": a.compile_seconds,
                **a.jax_seconds,
                **_xla.explained(a.jitted, a.xla_options),
                "lowerings": lowering_choices.for_graph(
                    a.graph, a.refinement.overrides if a.refinement else None),
                "refinement": a.refinement.summary() if a.refinement else None,
                "program_store": a.program_store(),
            } for a in self.artifacts],
        }


def _plan_passes(name: str, passes, disable, debug: bool, graph):
    """`Artifact.make_plan`: the plan passes over an optimised graph, (ExecutionPlan, stat
    lines). A module function, not a method, so an artifact does not hold its
    CompiledFunction alive."""
    from graphnet.compiler.passes import run_plan_passes

    plan, stats = run_plan_passes(graph, passes, disable, debug)
    _log_passes(name, stats)
    return plan, stats


def _log_passes(name: str, stats: list) -> None:
    if log_enabled("passes"):
        for line in stats:
            logger.warning("graphnet: %s: %s", name, line)


def _dims(shape) -> str:
    """`[128,784]`: shapes as the IR prints them."""
    return "[" + ",".join(str(d) for d in shape) + "]"


def _user_level() -> int:
    """`warnings.warn`'s stacklevel that names the user's line calling the compiled function,
    whichever graphnet, compiler and runtime frames lie between."""
    import os
    import sys

    import graphnet
    import graphnet.compiler

    roots = tuple(os.path.dirname(os.path.realpath(f)) + os.sep for f in (
        graphnet.__file__, __file__, graphnet.compiler.__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(roots):
        frame, level = frame.f_back, level + 1
    return level


def compile(fn, mesh=None, sharding: str = "replicated", **options):
    """`graphnet.compile`; with `mesh=` the program runs SPMD over that device mesh
    (runtime/sharded.py)."""
    if mesh is not None:
        from .sharded import ShardedFunction

        return ShardedFunction(compile(fn, **options), mesh, sharding)
    if sharding != "replicated":
        raise ValueError("sharding= needs mesh=: graphnet.compile(fn, mesh=graphnet."
                         "distributed.mesh(), sharding=\"fsdp\")")
    compiled = CompiledFunction(fn, **options)

    def call(*args, **kwargs):
        try:
            return compiled(*args, **kwargs)
        except _FallBack:
            return fn(*args, **kwargs)

    call.__wrapped__ = fn
    call.compiled = compiled
    call.explain = compiled.explain
    call.__name__ = compiled.name
    from graphnet.nn import Module

    if isinstance(fn, Module):
        from .compiled_module import OptimizedModule

        return OptimizedModule(fn, compiled, call)
    return _Handle(compiled, call)


class _Handle:
    """The user-facing object: callable, with `.explain()`, `.graph`, `.compiled`."""

    def __init__(self, compiled: CompiledFunction, call):
        self.compiled, self._call = compiled, call
        # the function's name, docstring, module and signature, as torch.compile keeps them
        functools.update_wrapper(self, compiled.fn, updated=())

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def explain(self) -> dict:
        return self.compiled.explain()

    @property
    def graph(self):
        return self.compiled.graph

    def __getattr__(self, name):
        if name in ("compiled", "_call") or name.startswith("__"):
            raise AttributeError(name)   # not set yet (copy, pickle): never recurse
        return getattr(self.compiled.fn, name)

    def __get__(self, instance, owner=None):
        """`@graphnet.compile` on a method: the instance is the first argument (by identity)."""
        return self if instance is None else functools.partial(self, instance)

    def __deepcopy__(self, memo):
        from .compiled_module import compiled_copy

        return compiled_copy(self.compiled, memo)

    def __reduce__(self):
        from .compiled_module import compiled_reduction

        return compiled_reduction(self.compiled)

    def __repr__(self) -> str:
        return f"<graphnet.compile({self.compiled.name}, mode={self.compiled.mode!r})>"


