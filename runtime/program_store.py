"""The program store: each static program's StableHLO kept on disk, so that a later process
runs it without tracing and lowering it through JAX again (issue 13: the warm first call).

JAX's persistent cache (graphnet/_compile_cache.py) skips XLA's compile on a warm first
call, but not what comes before it: JAX tracing graphnet's lowering of the graph (a
convolution's candidate forms and their custom gradients, through `jax.vjp`) and turning the
jaxpr into StableHLO. For LeNet's training step that was most of the warm first call: about
0.5 s of a 1.2 s call, and again for the second program (the first creates the momentum
buffers). So the first time a program is compiled, its lowering function is exported
(`jax.export`: StableHLO plus its input and output types) and written here; a later process
with the same key loads it and jits a call of it instead, which lowers in milliseconds and
whose compile JAX's persistent cache then holds.

The key is a hash of everything the lowering reads:
- the optimised graph as `Graph.to_json()` writes it: ops, attributes, literals, baked
  constants' bytes, types, module paths (not the user's source lines, which the lowering
  never reads). A graph that cannot be written as JSON (a custom
  `autograd.Function`, whose Python code the lowering runs) is never stored;
- graphnet's own source files (path, size and modification time of each), so that a changed
  kernel is lowered again, never served from an older graphnet;
- jax and jaxlib versions, the backend and device kind, JAX's 64-bit flag and default matmul
  precision, graphnet's default dtype, autocast state and global settings (`_settings`:
  deterministic algorithms, ...), whether per-op autotuning is on,
  every GRAPHNET_* environment variable, the number of in-program value checks, the whole-step
  refinement's overrides (runtime/refine.py) and the input types (weak types included).

The per-op lowering choices the program was built with (conv and pool candidates) are kept
with it and shown again by explain() and the plan dump (`conv_autotune.note_used`). They
are not part of the key (they are known only once the program is lowered), so a program is
not stored while any of them was left to the fixed rule for want of measuring budget (a later
process measures them, then stores it), and an entry whose choices the tuner's cache now
gives differently is lowered again. The
XLA compile options, donation and output order belong to the jitted call around the stored
program (runtime/artifact.py), not to the store.

The store lives in JAX's persistent cache directory (`graphnet-programs/`) and is on exactly
when that cache is: `graphnet.set_compile_cache(None)` or `GRAPHNET_COMPILE_CACHE=off` turn
both off; `GRAPHNET_PROGRAM_STORE=off` turns off only this one. Entries are flatbuffers and
MLIR bytecode read by `jax.export.deserialize`: loading one runs no Python code from it. An
entry that cannot be read, or whose key or input types differ, is ignored (and written again);
a write goes to a temporary file renamed into place, so an interrupted one leaves no entry.
Only single-device programs are stored."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import struct
import tempfile
import threading
import weakref
from pathlib import Path

import jax

ENV = "GRAPHNET_PROGRAM_STORE"
_OFF = {"0", "off", "false", "no", "none"}
_MAGIC = b"graphnet-program-store 1\n"
_SUBDIR = "graphnet-programs"
_fingerprint: list = []     # graphnet's source fingerprint, computed once per process
# Stored programs that call no LAPACK kernel, by id: their lowering skips JAX's LAPACK set-up
# (`_lapack_free_lowering`).
_lapack_free: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_lowering_lock = threading.RLock()
_lowering: list = []        # the installed lowering rule, once


def directory() -> Path | None:
    """Where programs are stored: `graphnet-programs/` in JAX's persistent cache directory;
    None when the store is off."""
    if os.environ.get(ENV, "").strip().lower() in _OFF:
        return None
    cache = jax.config.jax_compilation_cache_dir
    if not cache or not jax.config.jax_enable_compilation_cache:
        return None
    return Path(cache) / _SUBDIR


def source_fingerprint() -> str:
    """A hash of the path, size and modification time of every Python file of graphnet
    (the package, its compiler and its runtime): any edit or reinstall changes it."""
    if not _fingerprint:
        digest = hashlib.sha256()
        for package in ("graphnet", "graphnet.compiler", "graphnet.runtime"):
            root = Path(importlib.import_module(package).__file__).parent
            for path in sorted(root.rglob("*.py")):
                stat = path.stat()
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        _fingerprint.append(digest.hexdigest())
    return _fingerprint[0]


def _context(n_checks: int, overrides: dict | None, arrays) -> list:
    from graphnet import _autocast, _default_dtype, _settings
    from graphnet._ops import conv_autotune

    device = jax.devices()[0]
    return [source_fingerprint(), jax.__version__, jax.lib.__version__, device.platform,
            device.device_kind, bool(jax.config.jax_enable_x64),
            str(jax.config.jax_default_matmul_precision),
            str(_default_dtype._current["dtype"]), repr(_autocast.compile_key()),
            sorted(_settings._STATE.items()), conv_autotune.enabled(),
            sorted((k, v) for k, v in os.environ.items() if k.startswith("GRAPHNET_")),
            n_checks, json.dumps(overrides or {}, sort_keys=True),
            [_aval(a) for a in arrays]]


def _aval(a) -> list:
    aval = jax.typeof(a)
    return [list(aval.shape), str(aval.dtype), bool(getattr(aval, "weak_type", False))]


def _without_sources(data):
    """The graph's JSON without each node's `source` (the user's file:line that made it): the
    lowering never reads it, and it moves with any edit above that line, or with the script
    that called the same model code."""
    if isinstance(data, dict):   # a node is a dict with an "op"; an attribute may be "source"
        node = "op" in data and "attrs" in data
        return {k: _without_sources(v) for k, v in data.items()
                if not (node and k == "source")}
    if isinstance(data, list):
        return [_without_sources(v) for v in data]
    return data


class StoredProgram:
    """`run_fn` as a jitted program traces it: the stored program for these input types when
    the store holds one, else `run_fn` exported, stored and called. `status` says which (or
    why the program is not stored), for explain()."""

    def __init__(self, run_fn, graph, n_checks: int = 0, overrides: dict | None = None):
        self.run_fn, self.graph = run_fn, graph
        self.n_checks, self.overrides = n_checks, overrides
        self.status = "not used yet"
        self._exported: dict = {}     # input types -> the stored program, jitted (None: not stored)

    def __call__(self, *arrays):
        call = self._program(arrays)
        if call is None:
            return self.run_fn(*arrays)
        return tuple(call(*arrays))

    def _program(self, arrays):
        """The stored program for `arrays`' types, jitted with every input placed on the one
        device: `Exported.call` keyed its executable by the inputs' commitment, and a first
        call's inputs (a fresh `.grad` buffer, parameters made by a factory) are uncommitted
        where the next call's (this program's outputs) are committed, so XLA compiled the
        step a second time on the second call (seconds for a long unrolled simulation)."""
        avals = tuple(tuple(map(str, _aval(a))) for a in arrays)
        if avals not in self._exported:
            exported = self._find(arrays)
            self._exported[avals] = None if exported is None else jax.jit(
                exported.call, in_shardings=jax.sharding.SingleDeviceSharding(
                    jax.devices()[0]))
        return self._exported[avals]

    def _find(self, arrays):
        where = directory()
        if where is None:
            self.status = "off"
            return None
        if jax.device_count() != 1:
            self.status = "not stored: more than one device"
            return None
        from graphnet.compiler.dumps.json_schema import GraphJSONError

        try:
            graph_json = _without_sources(json.loads(self.graph.to_json()))
        except GraphJSONError as error:
            self.status = f"not stored: {error}"
            return None
        text = json.dumps([graph_json, _context(self.n_checks, self.overrides, arrays)])
        key = hashlib.sha256(text.encode()).hexdigest()
        path = where / f"{key}.program"
        exported = _read(path, key, arrays)
        if exported is not None:
            self.status = f"loaded from the program store ({path.name})"
            return exported
        return self._export(arrays, path, key)

    def _export(self, arrays, path: Path, key: str):
        from graphnet._ops import conv_autotune, lowering_choices

        specs = [jax.ShapeDtypeStruct(a.shape, a.dtype,
                                      weak_type=bool(getattr(jax.typeof(a), "weak_type",
                                                             False)))
                 for a in arrays]
        try:
            exported = jax.export.export(jax.jit(self.run_fn))(*specs)
            data = exported.serialize()
        except Exception as error:   # noqa: BLE001 — e.g. a print's host callback: not storable
            self.status = f"not stored: {type(error).__name__}: {str(error)[:200]}"
            return None
        keys = lowering_choices.keys(self.graph)
        left = conv_autotune.deferred(keys)
        if left:
            # NOTE: lowered by the fixed rule because this process's measuring budget was
            # spent; stored, a later process would load it and never lower (so never measure)
            # these ops again: ResNet-18's step ran its convolutions by the rule for good
            self.status = (f"not stored: {len(left)} lowering choice(s) left for a later "
                           f"process to measure (autotune budget spent)")
            _note_lapack(exported)
            return exported
        choices = [row for row in conv_autotune.conv_choices() if row["key"] in keys]
        header = json.dumps({"key": key, "choices": choices}).encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as f:
                f.write(_MAGIC + struct.pack("<Q", len(header)) + header + data)
            os.replace(f.name, path)
            self.status = f"stored ({path.name})"
        except OSError as error:     # a full disk or a read-only cache: run it unstored
            self.status = f"not stored: {error}"
        _note_lapack(exported)
        return exported


def _read(path: Path, key: str, arrays):
    """The Exported at `path` when it is a whole entry for `key` taking `arrays`' types,
    with its lowering choices noted for explain(); None otherwise."""
    from graphnet._ops import conv_autotune

    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        if not data.startswith(_MAGIC):
            return None
        start = len(_MAGIC) + 8
        (size,) = struct.unpack("<Q", data[len(_MAGIC):start])
        header = json.loads(data[start:start + size])
        if header.get("key") != key:
            return None
        exported = jax.export.deserialize(bytearray(data[start + size:]))
    except Exception:   # noqa: BLE001 — a truncated or foreign file is not an entry
        return None
    if len(exported.in_avals) != len(arrays) or exported.nr_devices != 1 or any(
            tuple(want.shape) != tuple(jax.typeof(a).shape)
            or want.dtype != jax.typeof(a).dtype
            for want, a in zip(exported.in_avals, arrays)):
        return None
    if conv_autotune.changed(header.get("choices", [])):
        return None   # lowered with choices the tuner has replaced since: lowered again
    conv_autotune.note_used(header.get("choices", []))
    _note_lapack(exported)
    return exported


def _note_lapack(exported) -> None:
    """Remember `exported` as LAPACK-free when its module names no LAPACK kernel."""
    if b"lapack" not in bytes(exported.mlir_module_serialized):
        _install_lowering()
        _lapack_free[id(exported)] = exported


def _install_lowering() -> None:
    """Lower a call of a LAPACK-free stored program without JAX's LAPACK set-up.
    NOTE: JAX's lowering of an exported call first initialises its CPU LAPACK kernels, which
    imports scipy.linalg: about 0.5 s of a warm first call on a busy machine (LeNet's
    whole lowering was 0.56 s) for programs that call no LAPACK kernel at all. Any other
    exported call, and any JAX without these internals, keeps JAX's own rule."""
    with _lowering_lock:
        if _lowering:
            return
        _lowering.append(None)
        try:
            from jax._src.export import _export
            from jax._src.interpreters import mlir

            original, setup = _export._call_exported_lowering, \
                _export._ensure_backends_initialized
        except (ImportError, AttributeError):
            return

        def lowering(ctx, *args, exported, **params):
            if _lapack_free.get(id(exported)) is not exported:
                return original(ctx, *args, exported=exported, **params)
            with _lowering_lock:
                _export._ensure_backends_initialized = lambda platforms: None
                try:
                    return original(ctx, *args, exported=exported, **params)
                finally:
                    _export._ensure_backends_initialized = setup

        mlir.register_lowering(_export.call_exported_p, lowering)
