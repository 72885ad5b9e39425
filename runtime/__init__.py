"""graphnet's runtime: compiled-artifact cache and guards, executors, benchmarks, CLI."""

from .compiled import CompiledFunction, compile

__all__ = ["CompiledFunction", "compile"]
