"""The shape store: the tracer's output types of each op kept on disk beside the program
store, so that a new process traces a model without asking JAX for them again (issue 13:
the warm first call).

While it traces, graphnet asks each op's kernel for its output types (`jax.eval_shape`,
compiler/shapes.py). A process keeps the answers in memory, but a new process asks again,
and its first `eval_shape` of each kernel is slow: JAX builds its tracing caches as it goes.
On a warm first call of LeNet's training step that was 0.13-0.17 s of a 0.5 s call, when
the program store had already made the rest a read. So each answer computed here is
appended to a file, and a later process looks answers up there first.

- **The file** is `graphnet-shapes/<context>.txt` in JAX's persistent cache directory, one
  per context: graphnet's source fingerprint (runtime/program_store.py), jax and jaxlib
  versions, the backend, JAX's 64-bit flag and every GRAPHNET_* environment variable. Any
  edit to graphnet opens a new file.
- **A line** is `crc32 <tab> key <tab> types`: the in-memory cache's key written as text
  (only keys made of plain data: numbers, strings, tuples, dtypes, types; an op with a
  callable or a sub-graph among its attributes is never written) and the output types as
  JSON. A line that does not check (a torn append, an edited byte) or whose types do not
  parse is ignored, and the answer is computed again.
- **It is on exactly when the program store is** (`GRAPHNET_PROGRAM_STORE=off`, or the
  compile cache off, turn it off). Appends happen after each compile and only for answers
  this process computed; a file past `_MAX_BYTES` starts over with them. Reading a line
  runs no code: it is split, checked and parsed as JSON numbers and dtype names.
- **Nothing is guessed from it**: a stored answer is what the same graphnet source gave
  under the same JAX for the same key, and the lowering of a traced graph still checks each
  kernel's result type against the trace (compiler/lower.py)."""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path

import jax
import numpy as np

from . import program_store

_SUBDIR = "graphnet-shapes"
_MAX_BYTES = 1 << 20    # read whole on a first trace: 17 ms at 1 MiB (5,500 lines)
_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "bfloat16", "float32", "float64", "complex64", "complex128"}


def key_text(obj) -> str | None:
    """`obj` (compiler/shapes.py's cache key) as text that names the same key in every
    process, or None when some part of it is not plain data."""
    kind = type(obj)
    if obj is None or kind is bool or kind is int or kind is str:
        return repr(obj)
    if kind is float:   # repr keeps -0.0, nan and inf apart, and every bit of the value
        return "f" + repr(obj)
    if kind is tuple or kind is list:
        parts = [key_text(v) for v in obj]
        if None in parts:
            return None
        inner = ",".join(parts)
        return f"({inner})" if kind is tuple else f"[{inner}]"
    if kind is slice:
        return key_text(("slice", obj.start, obj.stop, obj.step))
    if obj is Ellipsis:
        return "..."
    if isinstance(obj, np.dtype):
        return "dtype:" + obj.name
    if isinstance(obj, type):
        return f"type:{obj.__module__}.{obj.__qualname__}"
    from graphnet._dtype import dtype

    if kind is dtype:
        return "graphnet:" + obj.name
    return None


def _encode(types) -> str:
    return json.dumps([[list(shape), np.dtype(d).name] for shape, d in types])


def _decode(text: str):
    rows = json.loads(text)
    types = []
    for shape, name in rows:
        if name not in _DTYPES or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError(f"not an output type: {shape!r} {name!r}")
        types.append((tuple(shape), jax.numpy.dtype(name)))
    return tuple(types)


def _line(text: str, types) -> str:
    body = f"{text}\t{_encode(types)}"
    return f"{zlib.crc32(body.encode()):08x}\t{body}\n"


class ShapeStore:
    """The answers of one context's file, read once, and the ones this process added."""

    def __init__(self, path: Path):
        self.path = path
        self.lines: dict[str, str] = {}     # key text -> its whole line, checked on use
        self.new: dict[str, str] = {}
        try:
            data = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        for line in data.splitlines():
            parts = line.split("\t")
            if len(parts) == 3:
                self.lines[parts[1]] = line

    def get(self, key):
        text = key_text(key)
        line = self.lines.get(text) if text is not None else None
        if line is None:
            return None
        crc, _, body = line.partition("\t")
        try:
            if int(crc, 16) != zlib.crc32(body.encode()):
                return None
            return _decode(body.partition("\t")[2])
        except (ValueError, TypeError):
            return None

    def put(self, key, types) -> None:
        text = key_text(key)
        if text is not None:
            self.new[text] = self.lines[text] = _line(text, types).rstrip("\n")

    def flush(self) -> None:
        """Append this process's new answers (a file grown past _MAX_BYTES starts over)."""
        if not self.new:
            return
        lines, self.new = "".join(line + "\n" for line in self.new.values()), {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                big = self.path.stat().st_size > _MAX_BYTES
            except OSError:
                big = False
            with open(self.path, "w" if big else "a", encoding="utf-8") as f:
                f.write(lines)
        except OSError:     # a read-only or full cache: the answers stay in memory
            pass


_stores: dict = {}


def _context_name(where: Path) -> Path:
    context = [program_store.source_fingerprint(), jax.__version__, jax.lib.__version__,
               jax.default_backend(), bool(jax.config.jax_enable_x64),
               sorted((k, v) for k, v in os.environ.items() if k.startswith("GRAPHNET_"))]
    digest = hashlib.sha256(json.dumps(context).encode()).hexdigest()[:24]
    return where.parent / _SUBDIR / f"{digest}.txt"


def attach() -> ShapeStore | None:
    """Give compiler/shapes.py the store of the current context (read on first use), or
    none when the program store is off. Called before each trace."""
    from graphnet.compiler import shapes

    where = program_store.directory()
    store = None
    if where is not None:
        path = _context_name(where)
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = ShapeStore(path)
    shapes.backing = store
    return store


def flush() -> None:
    """Write what the traces since the last flush computed."""
    for store in _stores.values():
        store.flush()
