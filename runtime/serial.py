"""One lock for compiled calls across threads. A trace lifts the tensors it reads (their
values become graph placeholders until it ends, compiler/tracer.py) and a call reads the
generator's key before the run and writes the next one back after it: two threads calling
compiled code at once saw each other's placeholders (a TraceError or a JAX type error in a
thread pool serving a model) and drew the same random numbers. Compiled calls now run one at
a time, as Python code under the GIL mostly does; each program still uses XLA's threads.
Reentrant: a compiled function called inside another's trace (or its eager fallback) takes
it again in the same thread.

NOTE: eager code in another thread that reads a tensor while a trace has it lifted is not
covered: that would put a lock on every eager op."""

from __future__ import annotations

import threading

CALLS = threading.RLock()
