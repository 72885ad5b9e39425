"""`graphnet.compile(module)`: an `nn.Module` that holds the module as `_orig_mod` and runs
it compiled, as PyTorch's OptimizedModule.

Being a module is what makes it safe to use as one: assigned as a submodule
(`self.enc = graphnet.compile(Encoder())`), its parameters are its parent's, so optimizers
train them and state_dicts save them (a plain wrapper was stored as an attribute: the
encoder silently never trained); `.to()`, `.train()`, `.eval()` return it, still compiled
(they returned the bare module, which then ran eagerly); containers take it. Its parameters
are the original module's, named `_orig_mod.<name>` as in PyTorch.

Everything else is the original's, both ways, as in PyTorch: attributes read, set and
deleted through the wrapper are the original's (`cm.scale = 5.0`, `cm.head = Linear(...)`:
set on the wrapper, the compiled program never saw them), `training` is the original's
flag, `len()` and `dir()` are its."""

from __future__ import annotations

from graphnet.nn import Module

# the wrapper's own attributes; every other name is the original module's
_OWN = frozenset(("_orig_mod", "compiled", "_call", "forward", "_ready"))
_FORWARD_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs",
                  "_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs")


class OptimizedModule(Module):
    """The compiled form of `_orig_mod`: calling it runs the compiled program."""

    def __init__(self, module: Module, compiled, call):
        super().__init__()
        self._modules["_orig_mod"] = module
        self.__dict__.update(compiled=compiled, _call=call, _ready=True)

    def forward(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        # NOTE: straight to the program, not through Module.__call__ (the program's module
        # paths in guards, shape errors and dumps start at the original), unless hooks were
        # registered on the wrapper itself: they run around the compiled call, as PyTorch's
        if any(self.__dict__[table] for table in _FORWARD_HOOKS):
            return super().__call__(*args, **kwargs)
        return self._call(*args, **kwargs)

    @property
    def training(self) -> bool:
        return self._orig_mod.training

    @training.setter
    def training(self, value: bool) -> None:
        if self.__dict__.get("_ready"):     # Module.__init__'s default is not the original's
            self._orig_mod.training = value

    def explain(self) -> dict:
        return self.compiled.explain()

    @property
    def graph(self):
        return self.compiled.graph

    def __getattr__(self, name: str):
        if name == "_orig_mod":
            return self.__dict__["_modules"]["_orig_mod"]
        if name in ("_modules", "compiled", "_call", "_ready") or name.startswith("__"):
            raise AttributeError(name)     # not set yet (copy, pickle): never recurse
        return getattr(self._orig_mod, name)

    def __setattr__(self, name: str, value) -> None:
        if name in _OWN or hasattr(type(self), name) or not self.__dict__.get("_ready"):
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if name in _OWN or hasattr(type(self), name):
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def __len__(self) -> int:
        return len(self._orig_mod)

    def __dir__(self):
        own = list(self._orig_mod.__dir__())
        return own + [name for name in super().__dir__() if name not in own]

    def __deepcopy__(self, memo):
        return compiled_copy(self.compiled, memo)

    def __reduce__(self):
        return compiled_reduction(self.compiled)


def _settings(c) -> dict:
    """The `graphnet.compile` arguments `c` (a CompiledFunction) was made with."""
    return dict(mode=c.mode, donate=c.donate, cache_size=c.cache_size, passes=c.passes,
                disable=c.disable, debug=c.debug, hoist=c.hoist, checks=c.checks)


def compiled_copy(c, memo: dict):
    """A compiled copy of a deep copy of `c`'s function or module (a target network made with
    copy.deepcopy(compiled_model) is its own module, compiled the same way)."""
    import copy

    from .compiled import compile

    return compile(copy.deepcopy(c.fn, memo), **_settings(c))


def compiled_reduction(c) -> tuple:
    """What pickle stores of a compiled function or module: the function or module it
    compiled and its settings; loading compiles it again (the programs are not stored, as
    torch's OptimizedModule stores none). A compiled model, or a model after
    `model.compile()`, pickled through the closures of its handle before."""
    return _recompiled, (c.fn, _settings(c))


def _recompiled(fn, settings: dict):
    from .compiled import compile

    return compile(fn, **settings)
