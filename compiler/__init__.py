"""graphnet's compiler: trace (proxy payloads) -> Graph IR -> passes -> JAX callable.

Imports graphnet's op table; knows nothing of executors or benchmarks."""

from .ir import Graph, Node, Output, Value
from .lower import lower
from .tracer import TraceResult, Tracer
from .tracing import trace, trace_call
from .verify import VerifyError, verify

__all__ = ["Graph", "Node", "Output", "Value", "lower", "trace", "trace_call", "Tracer",
           "TraceResult", "verify", "VerifyError"]

_TORCH_COMPILER = ("allow_in_graph", "assume_constant_result", "compile",
                   "cudagraph_mark_step_begin", "disable", "get_default_backend",
                   "is_compiling", "is_dynamo_compiling", "is_exporting",
                   "keep_portable_guards_unsafe", "keep_tensor_guards_unsafe", "list_backends",
                   "nested_compile_region", "reset", "set_default_backend", "set_stance",
                   "skip_all_guards_unsafe", "skip_guard_on_all_nn_modules_unsafe",
                   "skip_guard_on_globals_unsafe", "skip_guard_on_inbuilt_nn_modules_unsafe",
                   "substitute_in_graph")


def __getattr__(name: str):
    """`torch.compiler`'s user-facing names (`is_compiling`, `disable`, `reset`, ...), read
    from the runtime on first use: the compiler itself knows nothing of executors."""
    if name in _TORCH_COMPILER:
        from graphnet.runtime import torch_compiler

        return getattr(torch_compiler, name)
    from graphnet._errors import missing_attribute

    raise missing_attribute("graphnet.compiler", "torch.compiler", name)
