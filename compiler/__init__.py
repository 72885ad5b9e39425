"""graphnet's compiler: trace (proxy payloads) -> Graph IR -> passes -> JAX callable.

Imports graphnet's op table; knows nothing of executors or benchmarks."""

from .ir import Graph, Node, Output, Value
from .lower import lower
from .tracer import TraceResult, Tracer
from .tracing import trace, trace_call
from .verify import VerifyError, verify

__all__ = ["Graph", "Node", "Output", "Value", "lower", "trace", "trace_call", "Tracer",
           "TraceResult", "verify", "VerifyError"]

_TORCH_COMPILER = ("allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin",
                   "disable", "nested_compile_region",
                   "get_default_backend", "is_compiling", "is_dynamo_compiling", "is_exporting",
                   "list_backends", "reset", "set_default_backend", "set_stance")


def __getattr__(name: str):
    """`torch.compiler`'s user-facing names (`is_compiling`, `disable`, `reset`, ...), read
    from the runtime on first use: the compiler itself knows nothing of executors."""
    if name in _TORCH_COMPILER:
        from graphnet.runtime import torch_compiler

        return getattr(torch_compiler, name)
    from graphnet._errors import missing_attribute

    raise missing_attribute("graphnet.compiler", "torch.compiler", name)
