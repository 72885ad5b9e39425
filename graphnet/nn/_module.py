"""`nn.Module`: registration of parameters, buffers and submodules through `__setattr__`,
calling with forward hooks, state_dict and PyTorch's exact `repr`. The walk over the module
tree (`named_modules`, `parameters`, `train`, `to`, ...) is written in `_module_tree.py`."""

from __future__ import annotations

from collections import namedtuple

from .. import _dispatch
from .._tensor import Parameter, Tensor
from ._buffer import Buffer
from ._counted import CountedDict
from . import _global_hooks
from ._module_hooks import RemovableHandle, _Hooks
from ._module_tree import _ModuleTree

__all__ = ["Module", "RemovableHandle"]

_changes = [0]      # how many times any module's attributes or slots changed


def module_changes() -> int:
    """A counter that moves whenever any module's attributes, parameter/buffer/submodule
    slots or hooks change (except `training`). Compiled code re-checks the modules it traced
    only when it moved (compiler/guards.py); `training` is guarded on its own."""
    return _changes[0]


class _Registry(CountedDict):
    """A module's parameter, buffer, submodule or hook table: an OrderedDict that counts its
    changes in `module_changes()`."""
    counter = _changes


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text: str, spaces: int) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


# a module's hook tables, each an OrderedDict of id -> hook (or option flag)
_HOOK_TABLES = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs",
                "_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs",
                "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
                "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
                "_load_state_dict_post_hooks")


# A TorchScript module's own names, read after `torch.jit.trace(model, x).save(path)`: graphnet's
# jit.script/trace hand back the module itself (graphnet/jit.py), so say so
_JIT = (" (a TorchScript module's; graphnet has no TorchScript, so graphnet.jit.script and "
        "jit.trace return the module itself: save its weights with "
        "graphnet.save(model.state_dict(), path), and use graphnet.compile(model) for a "
        "compiled graph)")
_SCRIPTED = dict.fromkeys(("save", "code", "graph", "inlined_graph", "code_with_constants",
                           "save_to_buffer", "original_name"), _JIT)


class Module(_Hooks):
    """Base class of all layers and models. Subclasses build submodules in `__init__` and
    wire them in `forward`; assigning a Parameter, Module or (via `register_buffer`) a tensor
    to an attribute registers it."""

    training: bool

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments; "
                            "nn.Module.__init__ takes none")
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", _Registry())
        set_(self, "_buffers", _Registry())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", _Registry())
        for table in _HOOK_TABLES:
            set_(self, table, _Registry())

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for table in _HOOK_TABLES:     # a module pickled before a table existed
            self.__dict__.setdefault(table, _Registry())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ---- calling -------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        compiled = self.__dict__.get("_compiled_call")     # `module.compile()`
        if compiled is not None and not self.__dict__.get("_in_compiled") \
                and _dispatch.current_mode() is None:
            self.__dict__["_in_compiled"] = True     # its trace and fallback call us again
            try:
                return compiled(*args, **kwargs)
            finally:
                self.__dict__["_in_compiled"] = False
        stack = _dispatch.module_stack()
        path = _child_path(stack[-1], self) if stack else ""
        stack.append((self, path))
        mode = _dispatch.current_mode()
        if mode is not None:
            mode.on_module_call(self)
            _global_hooks.note_traced_call(mode)
        try:
            if self._forward_hooks or self._forward_pre_hooks or self._backward_hooks \
                    or self._backward_pre_hooks or _global_hooks.any_call_hooks():
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            stack.pop()

    # ---- registration ----------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if name != "training":
            _changes[0] += 1
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, "_parameters")
            params[name] = _global_hooks.registered("parameter", self, name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(graphnet.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, "_modules")
            self._modules[name] = _global_hooks.registered("module", self, name, value)
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (graphnet.nn.Module or None expected)")
            self._modules[name] = _global_hooks.registered("module", self, name, None)
        elif isinstance(value, Buffer):     # nn.Buffer: registered, with its persistence
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, persistent=value.persistent)
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(graphnet.Tensor or None expected)")
            self._buffers[name] = _global_hooks.registered("buffer", self, name, value)
        else:
            if name != "training":
                mode = _dispatch.current_mode()
                if mode is not None:    # a trace must know: compiled calls cannot replay it
                    mode.on_attribute_write(self, name, value)
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Drop `name` from every place but registry `keep`, where it is about to be set: a
        replaced parameter or submodule keeps its position (parameters() order, state-dict
        order, a Sequential's index), as in PyTorch."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        note = getattr(_dispatch.current_mode(), "on_missing_attribute", None)
        if note is not None:   # a trace: `getattr(self, "prev", None)` decided by its absence
            note(self, name)
        hint = _SCRIPTED.get(name, "")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'{hint}")

    def __delattr__(self, name: str) -> None:
        _changes[0] += 1
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, {}):
                del self.__dict__[registry][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        names = set(super().__dir__()) | set(self._parameters) | set(self._buffers) \
            | set(self._modules)
        return sorted(n for n in names if not n[0].isdigit())   # not Sequential's "0", "1"

    def add_module(self, name: str, module: "Module | None") -> None:
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):   # PyTorch's TypeError, its words
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'module name can\'t contain ".", got: {name}' if "." in name
                           else 'module name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = _global_hooks.registered("module", self, name, module)

    register_module = add_module

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (graphnet.nn.Parameter or None required)")
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        self._parameters[name] = param if param is None else \
            _global_hooks.registered("parameter", self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        _check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(graphnet.Tensor or None required)")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        self._buffers[name] = _global_hooks.registered("buffer", self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def get_submodule(self, target: str) -> "Module":
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules and not hasattr(module, part):
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = getattr(module, part)
            if not isinstance(module, Module):   # a parameter, a None slot: PyTorch's error
                raise AttributeError(f"`{part}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"{type(module).__name__} has no buffer `{name}`")
        return module._buffers[name]

    # ---- traversal, modes and grads: written in _module_tree.py -------------------------------
    named_modules = _ModuleTree.named_modules
    modules = _ModuleTree.modules
    named_children = _ModuleTree.named_children
    children = _ModuleTree.children
    _named_members = _ModuleTree._named_members
    named_parameters = _ModuleTree.named_parameters
    parameters = _ModuleTree.parameters
    named_buffers = _ModuleTree.named_buffers
    buffers = _ModuleTree.buffers
    apply = _ModuleTree.apply
    train = _ModuleTree.train
    eval = _ModuleTree.eval
    requires_grad_ = _ModuleTree.requires_grad_
    zero_grad = _ModuleTree.zero_grad
    _apply_to_tensors = _ModuleTree._apply_to_tensors
    to = _ModuleTree.to
    to_empty = _ModuleTree.to_empty
    set_submodule = _ModuleTree.set_submodule
    type = _ModuleTree.type
    float = _ModuleTree.float
    double = _ModuleTree.double
    half = _ModuleTree.half
    bfloat16 = _ModuleTree.bfloat16
    cpu = _ModuleTree.cpu
    share_memory = _ModuleTree.share_memory
    cuda = _ModuleTree.cuda
    compile = _ModuleTree.compile

    # ---- state ---------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        from ._state import state_dict

        return state_dict(self, destination, prefix, keep_vars)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        from ._state import load_state_dict

        return load_state_dict(self, state_dict, strict, assign)

    _version = 1   # a module's state-dict format version (its `_metadata` entry)

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        from ._state import save_own

        save_own(self, destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        from ._state import load_own

        load_own(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs)

    def get_extra_state(self):
        """Override it (with set_extra_state) to keep a value of any kind in the state dict,
        under `_extra_state`."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state) -> None:
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    # ---- printing ------------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _child_path(parent_entry, child: Module) -> str:
    """The dotted path of `child`, called from inside `parent`'s forward: a direct child, or
    one held in a container the parent iterates (`for block in self.blocks: block(x)` gives
    `blocks.2`, as `named_modules()` names it)."""
    parent, parent_path = parent_entry
    prefix = f"{parent_path}." if parent_path else ""
    found = _find_in(parent, child, prefix)
    # None: called by a parent that does not own it (a module passed around as a function)
    return parent_path if found is None else found


def _find_in(module: Module, child: Module, prefix: str) -> str | None:
    for name, sub in module._modules.items():
        if sub is child:
            return prefix + name
    for name, sub in module._modules.items():   # through containers only: they have no
        if getattr(sub, "_is_container", False):  # forward of their own calling the child
            found = _find_in(sub, child, f"{prefix}{name}.")
            if found is not None:
                return found
    return None


def _check_name(kind: str, name) -> None:
    """PyTorch's rules for a parameter's or buffer's name (`a.b` and "" made state_dict keys
    no module path can reach)."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
