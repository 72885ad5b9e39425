"""`torch._dynamo`'s names that training scripts use: `reset()`, `set_stance`,
`list_backends`, and `config.recompile_limit` (alias `cache_size_limit`), how many programs
a compiled function keeps, one per input signature, before its further signatures run
eagerly. graphnet reads it as the default of
`graphnet.compile(..., cache_size=)` when a function is compiled, as TorchDynamo reads its
limit when a frame is compiled.

>>> torch._dynamo.config.cache_size_limit = 64   # before torch.compile(...)
"""

from __future__ import annotations

__all__ = ["config", "reset"]   # and, read on first use, set_stance and list_backends


def __getattr__(name: str):
    """`torch._dynamo.set_stance` and `list_backends`: `torch.compiler`'s, which they are."""
    if name in ("set_stance", "list_backends"):
        from graphnet.runtime import stance

        return getattr(stance, name)
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
