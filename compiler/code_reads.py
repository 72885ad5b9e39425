"""The user's Python code that ran while tracing, and what it may read that guards must check.

Which globals, closure cells, default arguments and object attributes a traced function
depends on cannot be read from the function alone: the code it reaches through a module's
helper method, a parent's `forward` called through `super()`, a property, a staticmethod, a
lambda held in a dict or in a module attribute, a helper three calls deep, a
`functools.partial`, a callable object, reads its own globals. Walking the function's globals
and closure found some of that (guards.function_reads, two levels down) and missed the rest:
`SCALE = 3.0` after compiling kept the traced 2.0 without a word.

So the tracer records every Python function that runs during the trace (`CodeRecorder`: a
`sys.settrace` function that only notes each call's code object and globals, and forwards to
a debugger's or coverage tool's trace function when one is set). The guards then read, for
each function of the user's own code that ran (`user_codes`): every global name its code
loads, in the globals it ran with; the closure cells and default arguments of the function
objects that hold it (`ran_functions`); and, in object_reads, the attributes its code loads.
Library code (graphnet, JAX, NumPy, torch, the standard library, installed packages) is left
out: what it reads is the state graphnet guards by other means (module attributes,
optimizer groups)."""

from __future__ import annotations

import functools
import os
import random
import sys
import sysconfig
import types

import graphnet

from .guards import _global_names, cell_reads, record
from .helper_state import _EMIT, _globals_before, note_self

_GRAPHNET_ROOTS = tuple(os.path.normcase(os.path.abspath(p)) + os.sep for p in {
    os.path.dirname(graphnet.__file__),
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "compiler",
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "runtime"})
_ROOTS = tuple(os.path.normcase(os.path.abspath(p)) + os.sep for p in {
    os.path.dirname(graphnet.__file__),
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "compiler",
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "runtime",
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"],
    sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})


class CodeRecorder:
    """While active (a context manager, in the tracing thread): `codes` maps (the code object
    of every Python function called, its caller's code object) to the globals it ran
    with; `entropy` lists where the user's code seeded a random generator from the operating
    system (`entropy_changes`)."""

    def __init__(self):
        self.codes: dict = {}
        self.entropy: list = []
        self.first: dict = {}     # user code -> (its globals, their values at its first call)
        self.logged: list = []    # where the user's code emitted a logging record
        self.selves: dict = {}    # id -> (a user's object a method ran on, its attributes)

    def __enter__(self):
        self.previous = previous = sys.gettrace()
        codes, entropy, first = self.codes, self.entropy, self.first

        def seen(frame) -> None:
            code = frame.f_code
            back = frame.f_back
            codes[code, back.f_code if back is not None else None] = frame.f_globals
            if code in _ENTROPY:
                _note_entropy(frame, entropy)
            elif code is _EMIT:
                _note_place(frame, self.logged)   # a logging record on its way out
            elif _is_user_file(code.co_filename) and (   # not a package's callback (user_codes)
                    back is None or not _is_package_file(back.f_code.co_filename)):
                if code not in first:
                    first[code] = _globals_before(code, frame.f_globals)
                if code.co_argcount:
                    note_self(frame, self.selves)

        if previous is None:
            def note(frame, event, arg):
                seen(frame)
        else:       # a debugger or coverage tool: it keeps seeing every call
            def note(frame, event, arg):
                seen(frame)
                return previous(frame, event, arg)
        # NOTE: Tracer.run_op switches recording off while it records an op (graphnet's own
        # code, most of the calls a trace makes), when no other trace function is chained
        note.records_code = previous is None
        sys.settrace(note)
        return self

    def __exit__(self, *exc) -> None:
        sys.settrace(self.previous)


# Where a random generator takes its seed from the operating system: NumPy's default_rng(),
# RandomState() and SeedSequence() without a seed read SystemRandom.getrandbits, Python's
# random.Random() and random.seed() call Random.seed with None
_ENTROPY = frozenset({random.SystemRandom.getrandbits.__code__, random.Random.seed.__code__,
                      random.SystemRandom.random.__code__, random.SystemRandom.randbytes.__code__})


def _note_entropy(frame, entropy: list) -> None:
    if frame.f_code is random.Random.seed.__code__ and frame.f_locals.get("a") is not None:
        return   # a seeded generator draws the same numbers on every call
    _note_place(frame, entropy)


def _note_place(frame, places: list) -> None:
    """Add the line of the user's code that led to `frame` (library frames skipped)."""
    while frame is not None and not _is_user_file(frame.f_code.co_filename):
        frame = frame.f_back
    where = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
    if where not in places:
        places.append(where)


def entropy_changes(entropy: list) -> list[str]:
    """A Python change for each place the traced code seeded a random generator from the
    operating system (`np.random.default_rng()` inside the step): the numbers drawn from it
    while tracing would be baked into the program and repeated on every call, where eager
    code draws new ones. Such a trace is traced again on every call, as for a watched
    generator that drew (python_state.py)."""
    return [f"a random generator seeded from the operating system at {where} drew numbers "
            f"(pass it a seed or make it outside the compiled function, or draw with "
            f"graphnet.rand/randn/randint: the program draws new ones on every call)"
            for where in entropy]


@functools.lru_cache(maxsize=4096)
def _is_user_file(filename: str) -> bool:
    if not filename or filename.startswith("<frozen"):
        return False
    path = os.path.normcase(os.path.abspath(filename)) if not filename.startswith("<") \
        else filename
    return not path.startswith(_ROOTS) and "-packages" + os.sep not in path


def user_codes(codes: dict) -> dict:
    """Of the recorded calls, the functions of the user's own code that the traced code
    called, directly or through graphnet (a forward, a hook), the standard library or a
    builtin: not callbacks an installed package makes on its own while the trace runs (a
    JAX monitoring listener counting compiles), which are no part of what the program
    computes."""
    ran = {}
    for (code, caller), module_globals in codes.items():
        if _is_user_file(code.co_filename) and not _is_package_file(
                caller.co_filename if caller is not None else ""):
            ran[code] = module_globals
    return ran


@functools.lru_cache(maxsize=4096)
def _is_package_file(filename: str) -> bool:
    """An installed package's code other than graphnet's (JAX, NumPy ...)."""
    path = os.path.normcase(os.path.abspath(filename)) if filename[:1] not in ("", "<") \
        else filename
    return "-packages" + os.sep in path and not path.startswith(_GRAPHNET_ROOTS)


def global_reads(ran: dict, done: set) -> list:
    """A read per global name each function that ran loads, in the globals it ran with
    (`done`: (id(globals), name) pairs read already)."""
    reads = []
    for code, module_globals in ran.items():
        for name in sorted(_global_names(code)):
            key = (id(module_globals), name)
            if name in module_globals and key not in done:
                done.add(key)
                reads.append(record(f"global '{name}' (read by {code.co_qualname}) is the "
                                    f"object traced", lambda g=module_globals, n=name: g[n]))
    return reads


def ran_functions(ran: dict, candidates) -> list:
    """The function objects among `candidates` (and the functions, bound methods, partials
    and callable objects they lead to, one level into containers and objects) whose code
    ran: those whose closure cells and defaults a compiled call depends on."""
    found, seen = {}, {}

    def visit(obj, level: int):
        if level > 4 or seen.get(id(obj), 5) <= level:   # again only if reached nearer
            return
        seen[id(obj)] = level
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        if isinstance(obj, functools.partial):
            visit(obj.func, level)
            for a in (*obj.args, *obj.keywords.values()):
                visit(a, level + 1)
            return
        if isinstance(obj, types.FunctionType):
            if obj.__code__ in ran:
                found[id(obj)] = obj
            for cell in obj.__closure__ or ():
                try:
                    visit(cell.cell_contents, level + 1)
                except ValueError:
                    continue
            # a function held as a default (`lambda z, f=act: f(z)`): its cells count too
            for default in (*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values()):
                visit(default, level + 1)
            return
        if isinstance(obj, (list, tuple)):
            for item in obj[:1024]:
                visit(item, level + 1)
        elif isinstance(obj, dict):
            for item in list(obj.values())[:1024]:
                visit(item, level + 1)
        elif isinstance(obj, (staticmethod, classmethod)):
            visit(obj.__func__, level)
        elif hasattr(obj, "__dict__") and not isinstance(obj, (type, types.ModuleType)):
            for item in list(vars(obj).values())[:1024]:
                visit(item, level + 1)
            # and its user classes' attributes: `act = staticmethod(make_act(cfg))`, or a
            # dict of them, on the class (before, the closure's cells were never guarded)
            for klass in type(obj).__mro__:
                if klass.__module__.split(".")[0] not in ("graphnet", "builtins"):
                    for item in list(vars(klass).values())[:1024]:
                        visit(item, level + 1)

    for obj in candidates:
        visit(obj, 0)
    return list(found.values())


def cell_and_default_reads(functions, done: set) -> list:
    """The closure cells (those not read already: `done`) and default arguments of
    functions that ran: `alpha = 3.0` in the scope a lambda closes over, or `f.__defaults__ =
    (3.0,)`, after compiling."""
    reads = []
    for f in functions:
        reads += cell_reads(f, done)
        if f.__defaults__ is not None or f.__kwdefaults__ is not None:
            reads.append(record(f"the default arguments of {f.__qualname__} are the values "
                                f"traced", lambda f=f: (f.__defaults__, f.__kwdefaults__)))
    return reads


def unwrap_callable(fn):
    """(the function to guard as the traced one, the objects it was bound to): a partial's
    function and its bound arguments, a callable object's `__call__` and the object."""
    extra = []
    while isinstance(fn, functools.partial):
        extra += [*fn.args, *fn.keywords.values()]
        fn = fn.func
    if not isinstance(fn, (types.FunctionType, types.MethodType, type)) and callable(fn):
        extra.append(fn)
        fn = fn.__call__
    return fn, extra


def class_method_reads(classes, names: frozenset) -> list:
    """The methods, properties and `forward` of the user's classes that the code that ran
    named: `Model.act = other` or `Model.forward = patched` after compiling."""
    reads, done = [], set()
    for cls in classes:
        for klass in cls.__mro__:
            if not _is_user_file(getattr(sys.modules.get(klass.__module__), "__file__", "")
                                 or "<user>"):
                continue
            state = vars(klass)
            for name in sorted((names | {"forward"}) & state.keys()):
                if (id(klass), name) in done or not isinstance(
                        state[name], (types.FunctionType, property, staticmethod, classmethod)):
                    continue
                done.add((id(klass), name))
                reads.append(record(f"{klass.__qualname__}.{name} is the code traced",
                                    lambda s=state, n=name: s.get(n)))
    return reads


def python_guards(tracer) -> tuple[list, list]:
    """(the guards of the Python state the traced code read, the graphnet modules it reached
    without calling them): the globals and closure cells of the traced function and of every
    function of the user's that ran, their default arguments, the attributes of the user's
    objects that code names, and the methods of the user's classes it called."""
    from .ambient_reads import ambient_reads
    from .guards import FunctionGuard
    from .object_reads import Reached, _attribute_names, module_object_reads, object_reads
    from .tensor_attributes import argument_attribute_values, tensor_attribute_guards

    ran = user_codes(getattr(tracer, "code_record", {}))
    fn, bound = unwrap_callable(tracer.fn)
    modules = [m for m, _, _ in tracer.modules.values()]
    # the user's code that ran besides: module hooks, tensor and optimizer hooks, custom
    # Functions. Guarded as the traced function is: a callable object's or bound method's
    # object, a partial's bound arguments (before, a hook `Scale()` whose `s` changed, or
    # `partial(hook, cfg)` whose dict did, kept the old program)
    hooks = [h for m in modules for h in (*m._forward_pre_hooks.values(),
                                          *m._forward_hooks.values())] + tracer.user_code
    hooks = list({id(h): h for h in hooks}.values())
    unwrapped = [unwrap_callable(h) for h in hooks]
    # the globals each called module's forward (and its hooks) reads, as the function's
    forwards = [type(m).forward for m in modules] + [f for f, _ in unwrapped]
    bound = [*bound, *(obj for _, objects in unwrapped for obj in objects)]
    done: set = set()
    function_guard = FunctionGuard(fn, forwards, done)
    extra = global_reads(ran, done)
    seen = [r.read() for r in function_guard.reads + extra]
    functions = ran_functions(ran, [fn, *bound, *forwards, *tracer.arg_objects, *modules,
                                    *seen])
    cells = cell_and_default_reads(functions, done)
    partials = [("the partial's bound arguments are", tracer.fn)] \
        + [("the bound arguments of the partial passed in are", obj)   # `step(x, partial(
           for obj in tracer.arg_objects] \
        + [("the bound arguments of the partial hook are", h) for h in hooks]   # f, s=[..]))`
    for what, obj in partials:
        if isinstance(obj, functools.partial):
            cells.append(record(f"{what} the values traced",
                                lambda p=obj: (p.func, p.args, p.keywords)))
    function_guard.extend(extra + cells)
    guards = [function_guard.failure]

    names = frozenset().union(*(_attribute_names(code) for code in ran))
    called = {id(m) for m in modules}
    reached = Reached()
    roots = [*bound, *seen, *(r.read() for r in cells),
             *argument_attribute_values(tracer, names)]     # a tensor argument's `x.meta`
    reads = object_reads(fn, tracer.arg_objects, skip=called, names=names, roots=roots,
                         reached=reached, callers=getattr(tracer, "caller_codes", frozenset()))
    for hook, _ in unwrapped:   # a hook's `self.scale`
        reads += object_reads(hook, skip=called, names=names, reached=reached)
    shared: set = set()
    for module in modules:                                   # a module's `self.cfg.x`
        reads += module_object_reads(module, skip=called, done=shared, names=names,
                                     reached=reached)
    reads += class_method_reads({type(m) for m in modules} | reached.classes, names)
    values = [r.read() for r in reads]
    reads += ambient_reads(names, [*seen, *roots, *values])   # a ContextVar, os.environ
    guards += [read.failure for read in reads]
    guards += tensor_attribute_guards(tracer, ran, names, [*seen, *roots, *values])   # `x.scale`
    tracer.args_as_state = args_reached_as_state(
        tracer, [*seen, *roots, *values, *modules, *reached.modules])
    return guards, list({id(m): m for m in reached.modules if id(m) not in called}.values())


def args_reached_as_state(tracer, objects) -> dict:
    """{argument position: tensor} for tensor arguments the code also reached another way (a
    global or closure tensor, a module's parameter or buffer, an item of a list or dict held
    so): the program read both as one input, so it applies only while that argument is this
    very tensor (`p` captured by `g` and passed as `g(p)`, then `g(x)`: the program wrote
    `p`'s update into `x`). runtime/arg_storage.py checks it on each call."""
    from graphnet._tensor import Tensor
    from graphnet.nn._module import Module

    args = {id(rec.tensor): rec.source[1] for rec in tracer.lifted.values()
            if rec.source[0] == "arg"}
    if not args:
        return {}
    found: dict = {}

    def note(obj, level: int):
        if isinstance(obj, Tensor):
            if id(obj) in args:
                found[args[id(obj)]] = obj
        elif isinstance(obj, Module):
            for t in (*obj.parameters(), *obj.buffers()):
                note(t, level)
        elif level < 2 and isinstance(obj, (list, tuple)):
            for item in obj[:1024]:
                note(item, level + 1)
        elif level < 2 and isinstance(obj, dict):
            for item in list(obj.values())[:1024]:
                note(item, level + 1)

    for obj in objects:
        note(obj, 0)
    return found
