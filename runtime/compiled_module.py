"""`graphnet.compile(module)`: an `nn.Module` that holds the module as `_orig_mod` and runs
it compiled, as PyTorch's OptimizedModule.

Being a module is what makes it safe to use as one: assigned as a submodule
(`self.enc = graphnet.compile(Encoder())`), its parameters are its parent's, so optimizers
train them and state_dicts save them (a plain wrapper was stored as an attribute: the
encoder silently never trained); `.to()`, `.train()`, `.eval()` return it, still compiled
(they returned the bare module, which then ran eagerly); containers take it. Its parameters
are the original module's, named `_orig_mod.<name>` as in PyTorch. Other attributes are
looked up on the original module."""

from __future__ import annotations

from graphnet.nn import Module


class OptimizedModule(Module):
    """The compiled form of `_orig_mod`: calling it runs the compiled program."""

    def __init__(self, module: Module, compiled, call):
        super().__init__()
        self._orig_mod = module
        self.__dict__["compiled"], self.__dict__["_call"] = compiled, call

    def forward(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    # NOTE: called straight, not through Module.__call__: the program's module paths (in
    # guards, shape errors, dumps) start at the original module, as they did before
    __call__ = forward

    def explain(self) -> dict:
        return self.compiled.explain()

    @property
    def graph(self):
        return self.compiled.graph

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name in ("_modules", "compiled", "_call") or name.startswith("__"):
                raise     # not set yet (copy, pickle): never recurse
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    def __deepcopy__(self, memo):
        """A compiled copy of a deep copy of the module (a target network made with
        copy.deepcopy(compiled_model) is its own module, compiled the same way)."""
        import copy

        from .compiled import compile

        c = self.compiled
        return compile(copy.deepcopy(self._orig_mod, memo), mode=c.mode, donate=c.donate,
                       cache_size=c.cache_size, passes=c.passes, disable=c.disable,
                       debug=c.debug, hoist=c.hoist, checks=c.checks)
