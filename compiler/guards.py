"""Guards: what a trace read from Python objects, checked again before each compiled call.

A compiled program is the Python code's behaviour *given what the tracer saw*: the modules it
called and their attributes (eps, momentum, negative slope, dropout p, hooks, submodules,
parameter slots), the optimizer's parameter groups and options, the objects the function
reached through its globals and closure. The tracer records each of those reads as a
`Read` (a description, a function that reads the current value, the value seen); the
guard set is derived from that record, one guard per read. A guard that fails names the read
(`guard failed: 2 is not the module traced`), and the runtime recompiles.

Values compare by equality when they are plain data (numbers, strings, tuples and lists of
them) and by identity otherwise (modules, tensors, optimizers, functions), so a replaced
object always fails its guard, even an equal one. Tensors the program reads as inputs are not
compared here: their arrays are graph inputs, read on every call."""
from __future__ import annotations

import builtins
import copy
import dis
import functools
import math
from collections import deque
import types
from dataclasses import dataclass
from typing import Callable

import numpy as np

from graphnet._mode import _PrintHook
from graphnet._tensor import Tensor

_PLAIN = (type(None), bool, int, float, complex, str, bytes)
# types whose == is already same_plain (no 1 == 1.0 == True, no 0.0 == -0.0, no NaN)
_BY_EQUALITY = frozenset((type(None), bool, int, str, bytes))
_ARRAY_BY_VALUE = 1 << 16   # NumPy arrays up to this many elements: by their bytes, kept
_NOT_PLAIN = object()


def freeze(value):
    """A snapshot of `value` that `matches` can compare with a later value. A NumPy array is
    kept by value (`graphnet.tensor(weights)` of a global array the user changes in place):
    a small one as bytes, a bigger one as a copy compared byte for byte (NOTE: big arrays
    used to be compared by identity alone, so `table[:] = ...` on a 100,000-element table
    kept the traced values silently; the compare costs about 0.1 ms a MB on every call)."""
    if isinstance(value, _PLAIN):
        return ("=", type(value), value)
    if isinstance(value, np.ndarray) and value.size <= _ARRAY_BY_VALUE:
        return ("array", value, value.dtype, value.shape, value.tobytes())
    if isinstance(value, np.ndarray) and value.dtype != object:
        return ("big array", value, value.dtype, value.shape,
                np.ascontiguousarray(value).copy())
    if isinstance(value, (tuple, list, deque)):
        return (type(value), tuple(freeze(v) for v in value))
    if isinstance(value, dict):   # OrderedDict too; a traced parameter group as the dict it is
        return (getattr(value, "guarded_as", type(value)),
                tuple((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):   # in iteration order, which the code sees
        return ("=", type(value), tuple(value))
    if isinstance(value, functools.partial):   # `sc = partial(f, l=cfg_list)`: by its binding
        return ("partial", value, freeze((value.func, value.args, value.keywords)))
    return ("is", value)


def has_mutable(value) -> bool:
    """`value` is, or holds, a container or array the code can change in place without
    rebinding anything (a dict inside a tuple, a deque, a NumPy array): identity does not
    tell that it is unchanged, so such a read is compared by value on every call. Tuples
    as deep as they go (a list six levels down a parse tree was missed at four)."""
    if isinstance(value, (list, dict, set, deque, np.ndarray, functools.partial)):
        return True     # a partial's `keywords` is a dict the code may change in place
    return type(value) is tuple and any(has_mutable(v) for v in value)


def same_plain(a, b) -> bool:
    """`a` and `b` are the same plain data: equal, of the same types throughout (1, 1.0 and
    True differ: they give results of other dtypes), floats of the same sign (0.0 and -0.0
    differ: `1 / x` does), NaN the same as NaN."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is float or issubclass(kind, np.floating):   # np.float64(-0.0) too
        return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (a != a and b != b)
    if kind is complex:
        return same_plain(a.real, b.real) and same_plain(a.imag, b.imag)
    if kind is tuple or kind is list:
        if len(a) != len(b):
            return False
        if a == b:      # a flat run of ints, strings ...: C-level comparisons only
            types = tuple(map(type, a))
            if _BY_EQUALITY.issuperset(types) and types == tuple(map(type, b)):
                return True
        return all(map(same_plain, a, b))
    return a == b


def _same_key(a, b) -> bool:
    """Dict keys: tensors (an optimizer's `state` is keyed by its parameters) by identity."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    return a == b


def matches(frozen, value) -> bool:
    kind = frozen[0]
    if kind == "=":
        if type(value) is not frozen[1]:
            return False
        return same_plain(tuple(value), frozen[2]) if isinstance(value, (set, frozenset)) \
            else same_plain(value, frozen[2])
    if kind == "is":
        return value is frozen[1]
    if kind == "array":
        return value is frozen[1] and value.dtype == frozen[2] and value.shape == frozen[3] \
            and value.tobytes() == frozen[4]
    if kind == "partial":
        return value is frozen[1] and matches(frozen[2], (value.func, value.args,
                                                          value.keywords))
    if kind == "big array":
        return value is frozen[1] and value.dtype == frozen[2] and value.shape == frozen[3] \
            and _same_bytes(value, frozen[4])
    if type(value) is not kind:
        return False
    is_dict = issubclass(kind, dict)
    items = tuple(value.items()) if is_dict else tuple(value)
    if len(items) != len(frozen[1]):
        return False
    if is_dict:
        return all(_same_key(k, fk) and matches(fv, v)
                   for (k, v), (fk, fv) in zip(items, frozen[1]))
    return all(matches(f, v) for f, v in zip(frozen[1], items))


def _same_bytes(array: np.ndarray, kept: np.ndarray) -> bool:
    """Bit for bit, so a NaN equals itself and -0.0 differs from 0.0."""
    bytes_now = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    return np.array_equal(bytes_now, kept.reshape(-1).view(np.uint8))


@dataclass(eq=False)
class Read:
    """One thing the trace depended on: `read()` returned a value equal to (or, for objects,
    identical with) `seen`."""

    what: str
    read: Callable[[], object]
    seen: object

    plain: object = _NOT_PLAIN      # `seen` as plain data, compared with == first

    def failure(self) -> str | None:
        try:
            now = self.read()
            if now is self.plain:       # the very object: a number, a string, None ...
                return None             # (a list's plain copy is never it)
            ok = (self.plain is not _NOT_PLAIN and same_plain(now, self.plain)) \
                or matches(self.seen, now)
        except Exception:       # the object the read goes through is gone or changed shape
            ok = False
        return None if ok else self.what


def _is_plain(value) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if type(value) in (tuple, list):
        return all(_is_plain(v) for v in value)
    return False


def record(what: str, read: Callable[[], object]) -> Read:
    value = read()
    result = Read(what, read, freeze(value))
    if _is_plain(value):
        result.plain = copy.deepcopy(value)
    return result


# ---- what a module's behaviour depends on ---------------------------------------------------
_REGISTRIES = ("_parameters", "_buffers", "_modules")
_SKIP = {"training", "_non_persistent_buffers_set", *_REGISTRIES}


def module_reads(module, path: str) -> list[Read]:
    """The attributes of a module the trace called: every plain attribute (eps, momentum,
    negative_slope, p, kernel sizes ...) and non-tensor object, its hooks, and which objects
    fill its parameter, buffer and submodule slots. `training` is guarded apart (the code may
    set it itself, see tracer.on_training_set)."""
    where = path or type(module).__name__
    state = module.__dict__
    reads = []
    for name in state:
        if name in _SKIP or name.startswith("__"):
            continue
        what = f"{where}.{name} is the value traced" if not name.startswith("_forward") \
            else f"{where}: the forward hooks traced"
        reads.append(record(what, lambda d=state, n=name: d[n]))
    reads.append(record(f"{where}: the same attributes as traced",
                        lambda d=state: tuple(d)))
    for registry in _REGISTRIES:
        slots = state[registry]
        noun = "module" if registry == "_modules" else "tensor"
        for name in slots:
            child = f"{path}.{name}" if path else name
            reads.append(record(f"{child} is the {noun} traced",
                                lambda s=slots, n=name: s.get(n)))
        reads.append(record(f"{where}: the same {registry.strip('_')} as traced",
                            lambda s=slots: tuple(s)))
    return reads


class FunctionGuard:
    """`function_reads` as one guard: while each global and closure cell holds the very
    object it held, nothing to compare; otherwise compare by value (an int set again).
    `fns`: more functions read alike (the `forward` of each module a trace called)."""

    def __init__(self, fn, fns=(), done: set | None = None):
        done = set() if done is None else done
        self.reads = function_reads(fn, done=done)
        seen = {id(fn.__func__ if isinstance(fn, types.MethodType) else fn)}
        for other in fns:
            other = other.__func__ if isinstance(other, types.MethodType) else other
            if id(other) not in seen:
                seen.add(id(other))
                self.reads += function_reads(other, done=done)
        self.extend([])

    def extend(self, reads: list) -> None:
        """More reads of the same kind (compiler/code_reads.py: the code that ran)."""
        self.reads += reads
        self.objects = [r.read() for r in self.reads]
        # A dict or list reached this way (`world["opt"]`) can change without being rebound.
        self.mutable = [r for r, obj in zip(self.reads, self.objects) if has_mutable(obj)]

    def failure(self) -> str | None:
        now = [r.read() for r in self.reads]
        same = all(a is b for a, b in zip(now, self.objects))
        for read in self.mutable if same else self.reads:
            reason = read.failure()
            if reason is not None:
                return reason
        self.objects = now
        return None


# ---- what a function reaches through its globals and closure ---------------------------------
def function_reads(fn, depth: int = 2, done: set | None = None) -> list[Read]:
    """Names the traced function (and the plain functions it reaches, `depth` levels down)
    looks up in its globals, and its closure cells: `opt = Adam(...)` after compiling, or a
    new `model`, fails one of these guards instead of running the old object's program.
    `done`: (id(globals), name) of the globals read, to add to and skip."""
    reads, seen = [], set()
    done = set() if done is None else done

    def visit(f, level):
        f = f.__func__ if isinstance(f, types.MethodType) else f    # bound method -> function
        if not isinstance(f, types.FunctionType) or id(f) in seen or _is_library(f):
            return
        seen.add(id(f))
        code, module_globals = f.__code__, f.__globals__
        for name in _global_names(code):
            if (id(module_globals), name) in done:
                continue
            done.add((id(module_globals), name))
            if name not in module_globals:
                # a builtin (`abs`, `len`): a global of that name made later, or the builtin
                # patched, changes what the code calls (it ran the old program before)
                reads.append(record(f"'{name}' of {f.__name__} (not a global) is the object "
                                    f"traced", lambda g=module_globals, n=name: _builtin(g, n)))
                continue
            reads.append(record(f"global '{name}' of {f.__name__} is the object traced",
                                lambda g=module_globals, n=name: g[n]))
            if level < depth:
                visit(module_globals[name], level + 1)
        for read in cell_reads(f, done):
            reads.append(read)
            if level < depth:
                visit(read.read(), level + 1)

    visit(fn, 0)
    return reads


def _builtin(module_globals: dict, name: str):
    """What `name`, not a global when traced, names now: a global made since, else the
    builtin (during a trace, `print` is its hook: then the print a call finds), else None."""
    found = module_globals[name] if name in module_globals else builtins.__dict__.get(name)
    return found.saved if isinstance(found, _PrintHook) else found


def cell_reads(f, done: set) -> list[Read]:
    """A read per filled closure cell of `f` not read already (`done`: the cells' ids)."""
    reads = []
    for name, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):
        try:
            _ = cell.cell_contents
        except ValueError:          # an empty cell: defined later in the enclosing scope
            continue
        if id(cell) not in done:
            done.add(id(cell))
            reads.append(record(f"'{name}' in {f.__qualname__}'s closure is the object "
                                f"traced", lambda c=cell: c.cell_contents))
    return reads


def _with_descendants(called: list) -> list:
    """The modules a trace called, then every module under them it did not call: a
    ModuleList or ModuleDict a forward iterates or indexes, a layer whose weight it reads
    directly. Their slots are guarded too, so `layers.append(...)` after compiling
    recompiles (before, the program kept the old layers)."""
    seen, out = {id(m) for m, _ in called}, list(called)
    for module, path in called:
        for name, child in module.named_modules(prefix=path):
            if id(child) not in seen:
                seen.add(id(child))
                out.append((child, name))
    return out


def _global_names(code) -> set:
    """Names the code loads as globals (not attribute names, which share `co_names`)."""
    names = {i.argval for i in dis.get_instructions(code)
             if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:            # nested functions and comprehensions
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _is_library(f) -> bool:
    """graphnet's own functions and installed packages: their globals are not user state."""
    module = getattr(f, "__module__", "") or ""
    return module.split(".")[0] in ("graphnet", "jax", "numpy") \
        or "site-packages" in (f.__code__.co_filename or "")


# ---- the guard set of one trace ----------------------------------------------------------------
def trace_guards(tracer) -> list:
    """The guard set, derived from what a finished trace read (`tracer`: compiler/tracer.py's
    Tracer). Each guard is a function returning None while the program still applies, else
    the reason."""
    guards = []
    for key, (module, training, path) in tracer.modules.items():
        if key not in tracer.set_before_call:     # else the call's own train()/eval() decides
            what = f"{path or type(module).__name__}.training == {training}"
            guards.append(lambda m=module, f=training, w=what: None if m.training == f else w)
    reached, python = [], []
    if tracer.fn is not None:   # globals, closures, objects the code read (code_reads.py)
        from .code_reads import python_guards   # NOTE: builds on this module

        python, reached = python_guards(tracer)
    from .module_guard import ModulesGuard   # NOTE: builds on this module
    from .recomputed_attributes import skipped

    called = [(m, path) for m, _, path in tracer.modules.values()]
    guards.append(ModulesGuard(_with_descendants(
        called + [(m, type(m).__name__) for m in reached]), skipped(tracer)).failure)
    guards += python
    for what, read, value in tracer.python_state.group_writes():
        # a compiled call skips the trace's `group[key] = value`: right while it holds value
        written = Read(f"{what} == {value!r}, as the traced code set it", read, freeze(value))
        guards.append(written.failure)
    for what, read, value in tracer.python_state.group_reads():
        guards.append(Read(f"{what} == {value!r}, as the traced code read it", read,
                           freeze(value)).failure)
    for what, read in tracer.reads:
        guards.append(record(what, read).failure)
    guards += [read.failure for read in tracer.value_reads]
    for t, was_none in tracer.grad_guards.values():
        what = f"{tracer._name_of(t)}.grad is {'None' if was_none else 'set'}"
        guards.append(lambda t=t, n=was_none, w=what: None if (t._grad is None) == n else w)
    lifted = [rec for rec in tracer.lifted.values() if rec.source[0] in ("state", "slot")]
    if lifted:
        guards.append(TensorsGuard(lifted).failure)
    return guards


class TensorsGuard:
    """The tensors a trace lifted as inputs (parameters, buffers, optimizer state): each
    must still be a Tensor of the traced shape, dtype and requires_grad. One guard for all
    of them, checked on every call: a loop, not a function call per tensor."""

    def __init__(self, lifted):
        self.checks = []
        for rec in lifted:
            t, v = rec.tensor, rec.original
            what = f"{rec.placeholder.name}: {list(v.shape)} {v.dtype}, " \
                   f"requires_grad={t.requires_grad}"
            # a parameter or buffer is the tensor itself; a slot is re-read (`.grad`, state)
            held = t if rec.source[0] == "state" else None
            self.checks.append((held, rec.source[1], v.shape, v.dtype, t.requires_grad, what))

    def failure(self) -> str | None:
        for held, read, shape, dtype, requires_grad, what in self.checks:
            t = held if held is not None else read()
            if not isinstance(t, Tensor):
                return f"{what}: now {type(t).__name__}"
            v = t._value
            if v.shape != shape or v.dtype != dtype or t.requires_grad != requires_grad:
                return what
        return None
