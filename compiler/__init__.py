"""graphnet's compiler: trace (proxy payloads) -> Graph IR -> passes -> JAX callable.

Imports graphnet's op table; knows nothing of executors or benchmarks."""

from .ir import Graph, Node, Output, Value
from .lower import lower
from .tracer import TraceResult, Tracer
from .tracing import trace, trace_call
from .verify import VerifyError, verify

__all__ = ["Graph", "Node", "Output", "Value", "lower", "trace", "trace_call", "Tracer",
           "TraceResult", "verify", "VerifyError"]
