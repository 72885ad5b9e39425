"""What a traced function may read through the user's own objects (compiler/guards.py builds
guards from these reads): a trainer's `self.model`, an argparse `args.alpha`, a config object
passed as an argument. The code cannot be watched attribute by attribute, so the candidate
attributes are the names the code loads as attributes, and a read is recorded for each one
the object holds."""

from __future__ import annotations

import dis
import functools
import types

from graphnet._tensor import Tensor

from .guards import _REGISTRIES, _SKIP, Read, _global_names, _is_library, record


def object_reads(fn, args=(), skip=(), depth: int = 2) -> list[Read]:
    """Attributes the traced code may read from the user's own objects: the instance of a
    bound method (a trainer's `self.model`, `self.kl_weight`), the objects the function's
    globals and closure cells hold (an argparse `args`), and objects passed as arguments (a
    config). Any of them changed after compiling (a new fold's model, an annealed weight)
    fails one of these reads instead of running the old program. Which attributes: those
    named as attributes in the code of the traced function, of the plain functions it
    reaches, and of the methods of those objects' classes, that the object holds now;
    objects they hold in turn are followed `depth` levels. `skip`: ids of objects guarded
    otherwise (the modules a trace called: ModulesGuard)."""
    functions, roots = _reachable(fn, depth)
    bound = getattr(fn, "__self__", None)
    roots = ([bound] if bound is not None else []) + roots + list(args)
    names = set().union(*(_attribute_names(f.__code__) for f in functions))
    reads, seen = [], set(skip)

    def visit(obj, where: str, level: int):
        if id(obj) in seen or not _user_object(obj):
            return
        seen.add(id(obj))
        held = _held_names(obj) & (names | _class_attribute_names(type(obj)))
        for name in sorted(held):
            value = getattr(obj, name)
            reads.append(record(f"{where}.{name} is the value traced",
                                lambda o=obj, n=name: getattr(o, n)))
            if level < depth:
                visit(value, f"{where}.{name}", level + 1)

    for obj in roots:
        visit(obj, type(obj).__name__, 1)
    return reads


def _reachable(fn, depth: int):
    """(the user functions the traced function reaches through its globals and closure,
    itself included; the values of those globals and cells), as function_reads walks them."""
    functions, values, seen = [], [], set()

    def visit(f, level):
        f = getattr(f, "__func__", f)
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
        values.extend(found)
        if level < depth:
            for value in found:
                visit(value, level + 1)

    visit(fn, 0)
    return functions, values


def _user_object(obj) -> bool:
    """An instance of a class that is not graphnet's, JAX's or NumPy's, with attributes of
    its own: a trainer, a config, an argparse Namespace (not a tensor, function, class or
    Python module)."""
    if isinstance(obj, (Tensor, type, types.ModuleType, types.FunctionType, types.MethodType,
                        types.BuiltinFunctionType)) or not hasattr(obj, "__dict__"):
        return False
    module = type(obj).__module__ or ""
    return module.split(".")[0] not in ("graphnet", "jax", "jaxlib", "numpy", "builtins")


def _held_names(obj) -> set:
    """The attribute names an object holds itself (a module's parameters, buffers and
    submodules included)."""
    names = {n for n in vars(obj) if not n.startswith("__") and n not in _SKIP}
    for registry in _REGISTRIES:
        names |= set(getattr(obj, "__dict__", {}).get(registry, ()) or ())
    return names


def _class_attribute_names(cls) -> set:
    """Names the user-defined methods of `cls` (and of its user-defined bases) load as
    attributes: what `self.step()` may read through `self.loss_fn()`."""
    names = set()
    for klass in cls.__mro__:
        if (klass.__module__ or "").split(".")[0] in ("graphnet", "jax", "numpy", "builtins"):
            continue
        for member in vars(klass).values():
            member = getattr(member, "__func__", member)
            if isinstance(member, types.FunctionType):
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
    return frozenset(names)
