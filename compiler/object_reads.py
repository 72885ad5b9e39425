"""What a traced function may read through the user's own objects (compiler/guards.py builds
guards from these reads): a trainer's `self.model`, an argparse `args.alpha`, a config object
passed as an argument, a class attribute (`Config.lr`, a module class's `scale = 2.0`), an
attribute of an imported config module (`import config; config.LR`), an object inside a
list or dict (`heads[0].weight_scale`), an attribute of a function object (`f.scale`, the
compiled function's own too). The code cannot be watched attribute by attribute, so
the candidate attributes are the names the code loads as attributes (properties' getters
included), and a read is recorded for each one the object (or its class) holds."""

from __future__ import annotations

import dis
import functools
import sys
import types

from graphnet._errors import TraceError
from graphnet._tensor import Tensor
from graphnet.nn._module import Module

from .guards import _REGISTRIES, _SKIP, Read, _global_names, _is_library, record
from .object_attributes import _slot_names, attributes, held_items, walk_held


class Reached:
    """What object_reads passed on the way: graphnet modules (guarded by ModulesGuard, slots
    and attributes, even when the code never called them: `x @ lin.weight.t()`) and the
    classes of the user's objects (their methods: code_reads.class_method_reads)."""

    def __init__(self):
        self.modules: list = []
        self.classes: set = set()


def object_reads(fn, args=(), skip=(), depth: int = 32, names=frozenset(), roots=(),
                 reached: Reached | None = None, callers=frozenset()) -> list[Read]:
    """Attributes the traced code may read from the user's own objects: the instance of a
    bound method (a trainer's `self.model`, `self.kl_weight`), the objects the function's
    globals and closure cells hold (an argparse `args`), and objects passed as arguments (a
    config). Any of them changed after compiling (a new fold's model, an annealed weight)
    fails one of these reads instead of running the old program. Which attributes: those
    named as attributes in the code of the traced function, of the plain functions it
    reaches, and of the methods of those objects' classes, that the object holds now;
    objects they hold in turn are followed `depth` levels. `skip`: ids of objects guarded
    otherwise (the modules a trace called: ModulesGuard). `names`: more attribute names;
    `roots`: more objects to start from; `reached`: collects what was passed on the way."""
    functions, found = _reachable(fn, depth)
    bound = getattr(fn, "__self__", None)
    roots = ([bound] if bound is not None else []) + functions[:1] + found + list(args) \
        + list(roots)
    reached = Reached() if reached is None else reached
    names = set(names).union(*(_attribute_names(f.__code__) for f in functions))
    if _ANY_NAME in names:   # `getattr(cfg, f"w_{k}")`: a name made at run time
        names = _EveryName()
    reads, seen = [], set(skip)

    def visit(obj, where: str, level: int):
        if id(obj) in seen:
            return
        if isinstance(obj, (list, tuple, dict)) and len(obj) > _MAX_ITEMS:
            _refuse_unguarded(where, obj.values() if isinstance(obj, dict) else obj,
                              f"holds {len(obj)} items; graphnet follows {_MAX_ITEMS}")
        if isinstance(obj, (list, tuple, dict)):
            # the container itself is guarded where it was reached (by value, or in place)
            seen.add(id(obj))
            items = obj.items() if isinstance(obj, dict) else enumerate(obj)
            for key, item in items:
                visit(item, f"{where}[{key!r}]", level)
            if not _user_object(obj):   # a container of the user's class: its attributes
                return
            seen.discard(id(obj))
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        if isinstance(obj, Module) and id(obj) not in seen:
            reached.modules.append(obj)
            if not _user_object(obj):
                seen.add(id(obj))
                return
        if isinstance(obj, types.FunctionType):
            if id(obj) in seen or _is_library(obj):
                return
            # NOTE: `f.scale = 3.0` after compiling a function that reads `f.scale` (its own
            # attribute, or a helper's) kept the traced value: its `__dict__` is read by value
            seen.add(id(obj))
            held = {n for n in vars(obj) if n in names and not n.startswith("__")}
        elif isinstance(obj, (type, types.ModuleType)):
            if not (_user_class(obj) or _user_module(obj)):
                _library_functions(obj, where, names, reads, seen)
                return
            seen.add(id(obj))
            # a class or module used as a namespace: its data by value, and its functions
            # and classes by identity (`H.act = staticmethod(...)`, `conf.act = other`),
            # read from its own dict (a classmethod's getattr is a new object each time)
            code = {n for n, v in vars(obj).items() if n in names and not _data(v)
                    and not n.startswith("__")}
            for name in sorted(code):
                reads.append(record(f"{where}.{name} is the code traced",
                                    lambda o=obj, n=name: vars(o).get(n)))
                if isinstance(vars(obj)[name], type) and level < depth:
                    visit(vars(obj)[name], f"{where}.{name}", level + 1)
            held = {n for n, v in vars(obj).items() if n in names and _data(v)
                    and not n.startswith("__")}
        elif _user_object(obj) or _distribution(obj):
            seen.add(id(obj))
            reached.classes.add(type(obj))
            # a distribution's own methods read its parameters (`noise.sample()` reads
            # `noise.scale`), a DataLoader's its dataset: every attribute it holds
            # (`noise.scale = 0.01` traced again)
            wanted = _EveryName() if _distribution(obj) else \
                names | _class_attribute_names(type(obj), callers)
            held = {n for n in _held_names(obj) if n in wanted} | _class_data_names(
                type(obj), wanted)
            # NOTE: which of those names the object holds is a read too: one it gains later
            # (`cfg.temperature = 2` read by `getattr(cfg, "temperature", 1.0)`, a method
            # replaced on the instance) ran the program traced without it, silently
            reads.append(record(f"{where} holds the attributes it held when traced",
                                lambda o=obj, w=wanted: tuple(sorted(
                                    n for n in _held_names(o) if n in w))))
        else:
            return
        for name in sorted(held):
            value = getattr(obj, name)
            reads.append(record(f"{where}.{name} is the value traced",
                                lambda o=obj, n=name: getattr(o, n)))
            if level < depth:
                visit(value, f"{where}.{name}", level + 1)
            else:
                _refuse_unguarded(f"{where}.{name}", value if isinstance(
                    value, (list, tuple)) else [value], f"is {depth} levels down")

    for obj in roots:
        named = isinstance(obj, (type, types.ModuleType, types.FunctionType))
        visit(obj, getattr(obj, "__name__", None) if named else type(obj).__name__, 1)
    return reads


_MAX_ITEMS = 16384   # the longest list or dict whose items are followed


def _refuse_unguarded(where: str, items, why: str) -> None:
    """A TraceError when `items` hold objects of the user's own that the guards would not
    follow (`why`): a change to one of them (a parse tree's leaf 12 levels down, the parent
    of node 1100 of a graph) ran the program traced for the old values, silently."""
    if any(_user_object(item) or _distribution(item) for item in items):
        raise TraceError(
            f"the compiled code reads through {where}, which {why}: graphnet cannot guard "
            f"objects of yours that deep or that many, so a change to one of them would "
            f"not be seen. Pass their data as tensors or Python numbers, or run this code "
            f"dynamically (graphnet.compile(..., mode='dynamic')).")
_ANY_NAME = "<any attribute>"   # `_attribute_names`: the code builds attribute names itself


class _EveryName(frozenset):
    """The candidate attribute names of code that reads an attribute by a name it builds
    (`getattr(cfg, f"w_{k}")`, `attrgetter(name)`): every name an object holds."""

    def __contains__(self, name) -> bool:
        return True

    def __or__(self, other):
        return self


def _data(value) -> bool:
    """A class or module attribute that holds data (a number, a tensor, an object), not code
    or a class or module of its own."""
    return not isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type,
                                  types.ModuleType, property, classmethod, staticmethod))


def _library_functions(obj, where: str, names, reads: list, seen: set) -> None:
    """`F.gelu = patched` after compiling code that calls `F.gelu(x)`: graphnet's own Python
    modules the code reads names of, compared by identity (one read per module, as a tuple)."""
    if not isinstance(obj, types.ModuleType) or id(obj) in seen \
            or (obj.__name__ or "").split(".")[0] != "graphnet":
        return
    seen.add(id(obj))
    space = vars(obj)
    read = tuple(sorted(n for n in space if n in names and not n.startswith("__")
                        and callable(space[n]) and not isinstance(space[n], type)))
    if read:
        reads.append(record(f"{where}.{'/'.join(read)} is the code traced",
                            lambda s=space, r=read: tuple(map(s.get, r))))


def _user_class(cls) -> bool:
    return isinstance(cls, type) and _user_source(cls.__module__)


def _user_module(module) -> bool:
    """A Python module of the user's own (a config file, or one made with
    `types.ModuleType`), not a library's."""
    path = getattr(module, "__file__", None) or ""
    return _user_source(module.__name__) and "-packages" not in path


def _user_source(module_name) -> bool:
    top = (module_name or "").split(".")[0]
    return top not in ("graphnet", "jax", "jaxlib", "numpy", "builtins", "torch") \
        and top not in sys.stdlib_module_names


def _class_data_names(cls, wanted: set) -> set:
    """Of `wanted`, the data attributes an instance reads from its user-defined classes
    (`self.scale` where `scale = 2.0` is set on the class)."""
    found = set()
    for klass in cls.__mro__:
        if not _user_class(klass):
            continue
        found |= {n for n, v in vars(klass).items() if n in wanted and _data(v)
                  and not n.startswith("__")}
    return found


def _reachable(fn, depth: int):
    """(the user functions the traced function reaches through its globals, closure and
    default arguments, itself included; the values of those), as function_reads walks them."""
    functions, values, seen = [], [], set()

    def visit(f, level):
        f = f.__func__ if isinstance(f, types.MethodType) else f
        if not isinstance(f, types.FunctionType) or id(f) in seen or _is_library(f):
            return
        seen.add(id(f))
        functions.append(f)
        code, module_globals = f.__code__, f.__globals__
        found = [module_globals[n] for n in _global_names(code) if n in module_globals]
        for cell in f.__closure__ or ():
            try:
                found.append(cell.cell_contents)
            except ValueError:
                continue
        found += [*(f.__defaults__ or ()), *(f.__kwdefaults__ or {}).values()]   # `t=trainer`
        values.extend(found)
        if level < depth:
            for value in found:
                visit(value, level + 1)

    visit(fn, 0)
    return functions, values


def probe(obj, name: str, default=None):
    """`getattr(obj, name, default)` for any user object: a class whose `__getattr__` raises
    KeyError (a config backed by a dict) has no such attribute, instead of failing the trace."""
    try:
        return getattr(obj, name, default)
    except Exception:   # noqa: BLE001 - whatever the user's __getattr__ raises
        return default


def _user_object(obj) -> bool:
    """An instance of a class that is not graphnet's, JAX's or NumPy's, with attributes of
    its own: a trainer, a config, an argparse Namespace (not a tensor, function, class or
    Python module)."""
    if isinstance(obj, (Tensor, type, types.ModuleType, types.FunctionType, types.MethodType,
                        types.BuiltinFunctionType)) or not (hasattr(obj, "__dict__")
                                                            or _slot_names(type(obj))):
        return False
    module = type(obj).__module__ or ""
    return module.split(".")[0] not in ("graphnet", "jax", "jaxlib", "numpy", "builtins")


def _distribution(obj) -> bool:
    """A graphnet object whose attributes are the user's state: a graphnet.distributions
    object (a Distribution, a Transform: its parameters) or a graphnet.utils.data one (a
    DataLoader, a Subset, a TensorDataset, a sampler: the dataset, indices and tensors the
    user may change between calls, `subset.indices.append(9)`, `loader.dataset.scale = 3`)."""
    return (type(obj).__module__ or "").startswith(_STATE_HOLDERS) \
        and hasattr(obj, "__dict__") and not isinstance(obj, type)


_STATE_HOLDERS = ("graphnet.distributions", "graphnet.utils.data")


def _held_names(obj) -> set:
    """The attribute names an object holds itself (a module's parameters, buffers and
    submodules included)."""
    names = {n for n in attributes(obj) if not n.startswith("__") and n not in _SKIP}
    for registry in _REGISTRIES:
        names |= set(getattr(obj, "__dict__", {}).get(registry, ()) or ())
    return names


def _class_attribute_names(cls, callers=frozenset()) -> set:
    """Names the user-defined methods of `cls` (and of its user-defined bases) load as
    attributes: what `self.step()` may read through `self.loss_fn()`. Not those of the
    methods in `callers` (code objects), which were running when the trace began: a
    trainer's `fit()` that calls the compiled step and then counts `self.global_step += 1`
    (its reads are outside the program; guarded, every call traced again)."""
    names = set()
    for klass in cls.__mro__:
        if (klass.__module__ or "").split(".")[0] in ("graphnet", "jax", "numpy", "builtins"):
            continue
        for member in vars(klass).values():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if isinstance(member, property):        # what a getter or setter reads
                for accessor in (member.fget, member.fset):
                    if isinstance(accessor, types.FunctionType):
                        names |= _attribute_names(accessor.__code__)
            elif isinstance(member, types.FunctionType) and member.__code__ not in callers:
                names |= _attribute_names(member.__code__)
    return names


@functools.lru_cache(maxsize=8192)
def _attribute_names(code) -> frozenset:
    """Names the code loads as attributes (`x.name`, `x.name()`). Kept per code object:
    disassembling every method of a class on every compile cost the test suite's op checks
    13% of their time."""
    names = {i.argval for i in dis.get_instructions(code)
             if i.opname in ("LOAD_ATTR", "LOAD_METHOD")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _attribute_names(const)
        elif isinstance(const, (tuple, frozenset)):   # `for k in ("a", "b"): getattr(c, k)`
            names |= {c for c in const if isinstance(c, str) and c.isidentifier()}
        elif isinstance(const, str) and const.isidentifier():
            # NOTE: a name read as a string: `getattr(cfg, "scale")`, `vars(args)["alpha"]`,
            # `attrgetter("scale")`. Not loaded as an attribute, it was never guarded, and
            # a changed `cfg.scale` kept the traced value. Any such string is a candidate:
            # a read is recorded only where the object holds that name.
            names.add(const)
    if {"getattr", "attrgetter"} & set(code.co_names) and _names_made_at_run_time(code):
        # NOTE: `getattr(cfg, f"w_{k}")`, `getattr(self.w, name)`: no constant says which
        # attribute is read, and a changed `cfg.w_b` kept the traced value; every attribute
        # the objects hold is then a candidate
        names.add(_ANY_NAME)
    return frozenset(names)


def _names_made_at_run_time(code) -> bool:
    """Whether a `getattr(obj, name[, default])` or `attrgetter(name)` call in `code` takes
    a name that is not a constant. Read off the bytecode: the name is the argument loaded
    just before the call (before a one-instruction default); where that is not plainly
    a constant (a nested call, an f-string), it counts as made at run time."""
    ops = list(dis.get_instructions(code))
    for i, op in enumerate(ops):
        if op.opname not in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_ATTR", "LOAD_METHOD") \
                or op.argval not in ("getattr", "attrgetter"):
            continue
        call = next((k for k in range(i + 1, len(ops))
                     if ops[k].opname in ("PRECALL", "CALL")), None)
        if call is None:
            return True
        argc = ops[call].arg or 0
        at = call - 1 if op.argval == "attrgetter" or argc < 3 else call - 2
        if at <= i or ops[at].opname != "LOAD_CONST":
            return True
    return False


def module_object_reads(module, skip=(), done: set | None = None, names=frozenset(),
                        reached: Reached | None = None) -> list[Read]:
    """Attributes read through the user's own objects a called module holds (`self.cfg =
    config`, then `self.cfg.temperature` in forward, as Hugging Face-style models do; or a
    list of them): ModulesGuard compares such an object by identity only, so a changed
    `cfg.temperature` kept the traced value. The names are those the module's class code
    loads as attributes."""
    held = [value for name, value in vars(module).items()
            if name not in _SKIP and probe(value, "move_to_end") is None
            and (_user_object(value) or isinstance(value, (list, tuple, dict)))]
    if done is not None:    # one config shared by every layer of a class: read once
        held = [v for v in held if (type(module), id(v)) not in done]
        done.update((type(module), id(v)) for v in held)
    if not held:
        return []
    return object_reads(type(module).forward, held, skip,
                        names=_class_attribute_names(type(module)) | names, reached=reached)


def held_user_objects(where: str, value, depth: int = 8, limit: int = 256,
                      functions: list | None = None) -> list:
    """(path, object) for the user's own objects held by `value`, it included, through
    attributes and the items of lists, tuples and dicts, `depth` levels down (a trainer's
    `self.progress`, a global `cfg['state']`, a module's `self.tracker`; as deep as
    `object_reads` follows reads: three levels missed `run.train.opt.sched.state.step`).
    Modules and optimizers are the callers' to skip; at most `limit` objects. `functions`
    collects the user's functions met on the way (a closure held in a dict or attribute)."""
    found: list = []

    def children(path, obj):
        if isinstance(obj, (list, tuple)) or type(obj) is dict:
            return held_items(path, obj, 64)
        if isinstance(obj, types.FunctionType) and functions is not None \
                and not _is_library(obj):
            functions.append(obj)
        elif _user_object(obj):
            found.append((path, obj))
            if not isinstance(obj, Module):
                return [(f"{path}.{name}", item) for name, item in attributes(obj).items()
                        if not name.startswith("__")]
        return []
    return walk_held(where, value, depth, limit, found, children)
