"""`torch._dynamo`'s names that training scripts use: `reset()`, `set_stance`,
`list_backends`, `OptimizedModule` (also as `eval_frame.OptimizedModule`, for
`isinstance(model, ...)` before reading `_orig_mod`), the marks (`mark_dynamic`,
`mark_static`, ...), `graph_break()`, the decorators `torch.compiler` has, and
`config.recompile_limit` (alias `cache_size_limit`), how many programs
a compiled function keeps, one per input signature, before its further signatures run
eagerly. graphnet reads it as the default of
`graphnet.compile(..., cache_size=)` when a function is compiled, as TorchDynamo reads its
limit when a frame is compiled.

>>> torch._dynamo.config.cache_size_limit = 64   # before torch.compile(...)
"""

from __future__ import annotations

import types

__all__ = ["config", "disallow_in_graph", "graph_break", "mark_dynamic", "mark_static",
           "mark_static_address", "maybe_mark_dynamic", "reset"]
_COMPILER = ("set_stance", "list_backends", "disable", "allow_in_graph", "is_compiling",
             "assume_constant_result")   # torch.compiler's, which these are


def __getattr__(name: str):
    """The names read from the runtime on first use (importing graphnet stays light)."""
    if name in _COMPILER:
        from graphnet.runtime import torch_compiler

        return getattr(torch_compiler, name)
    if name in ("OptimizedModule", "eval_frame"):
        from graphnet.runtime.compiled_module import OptimizedModule

        return OptimizedModule if name == "OptimizedModule" else types.SimpleNamespace(
            OptimizedModule=OptimizedModule)
    from graphnet._errors import missing_attribute

    raise missing_attribute("graphnet._dynamo", "torch._dynamo", name)


def reset() -> None:
    """`torch._dynamo.reset()`: `graphnet.compiler.reset()`, every compiled program forgotten."""
    from graphnet.runtime.torch_compiler import reset as reset_compiler

    reset_compiler()


class _Config:
    """The settings graphnet has of `torch._dynamo.config`; setting another raises, since a
    setting accepted and not honoured would change nothing silently."""

    _NAMES = ("recompile_limit", "cache_size_limit")

    def __init__(self) -> None:
        object.__setattr__(self, "recompile_limit", 8)

    @property
    def cache_size_limit(self) -> int:
        return self.recompile_limit

    def __setattr__(self, name: str, value) -> None:
        if name not in self._NAMES:
            raise AttributeError(
                f"graphnet._dynamo.config has no setting {name!r}: graphnet has TorchDynamo's "
                f"recompile_limit (alias cache_size_limit) only. It has no graph breaks to "
                f"configure (a static program is the whole function, or a TraceError names "
                f"what stops it); see graphnet.compile's options.")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TypeError(f"{name} must be a non-negative int, got {value!r}")
        object.__setattr__(self, "recompile_limit", value)


config = _Config()


def _marked(t, what: str) -> None:
    from graphnet._tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"torch._dynamo.{what} marks a tensor, got {type(t).__name__}")


def mark_dynamic(t, index, *, hint_override=None, min=None, max=None, specialize_on=None):
    """Accepted, and changes nothing: graphnet compiles one program per input shape (a new
    size of dim `index` compiles another, up to `recompile_limit`), so no dim is symbolic."""
    del index, hint_override, min, max, specialize_on
    _marked(t, "mark_dynamic")


def maybe_mark_dynamic(t, index) -> None:
    """As `mark_dynamic`: accepted, one program per shape."""
    del index
    _marked(t, "maybe_mark_dynamic")


def mark_static(t, index=None) -> None:
    """Accepted: every dim is static in graphnet already."""
    del index
    if not isinstance(t, type):   # PyTorch also marks a Module class
        from graphnet.nn import Module

        if not isinstance(t, Module):
            _marked(t, "mark_static")


def mark_static_address(t, guard: bool = False) -> None:
    """Accepted: CUDA-graph address pinning, which graphnet has no use for."""
    del guard
    _marked(t, "mark_static_address")


def graph_break(msg: str = "") -> None:
    """Nothing: graphnet has no graph breaks, the code around it is traced as one program
    (which computes eager's values, or refuses with a TraceError)."""
    del msg


def disallow_in_graph(fn):
    """`fn` unchanged: graphnet traces every function with its caller."""
    return fn
