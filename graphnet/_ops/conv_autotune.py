"""Per-shape choice of a convolution's lowering, measured once and remembered on disk.

The first time the `conv` kernel is traced for a key (op, input shape, weight shape, stride,
padding, dilation, groups, dtype, backend and device kind), every candidate that applies
(`conv_candidates.py`) is timed on random inputs of that shape in three directions, each
jitted alone: the forward, the input gradient and the weight gradient (its `jax.vjp` for
one argument). The fastest per direction is used from then on (`conv_by_direction` joins
three candidates into one differentiable function). Timing the directions apart matters:
a network's first conv needs no input gradient, and the best forward and the best
gradients of one shape often come from different candidates. The kernel runs at trace time
in both modes (eager per-op jit and `graphnet.compile`), so the timing escapes the
surrounding trace with `jax.ensure_compile_time_eval`. Choices live in memory and in a JSON
file (`cache_path()`), so a later process measures nothing.

The switch (`enabled()`): `graphnet.backends.autotune(False)` or env GRAPHNET_AUTOTUNE=0
turn it off, and then `conv.py`'s fixed rule applies. It is also off under pytest (env
PYTEST_CURRENT_TEST) unless turned on explicitly, so the test suite's numbers do not depend
on timings."""

from __future__ import annotations

import functools
import json
import os
import platform
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import jax
import numpy as np

from .. import _xla as xla
from .autotune_timing import _directions, measure   # tests patch `measure` here
from .conv_candidates import DIRECTIONS, candidates_for, conv_native

_lock = threading.RLock()
_switch: bool | None = None        # set by set_enabled(); None: the environment decides
_choices: dict = {}                # key -> {"choice": {direction: name},
#                                           "times_s": {direction: {name: seconds}}}
_loaded_from: Path | None = None   # the disk file _choices was last merged from
_used: dict = {}                   # key -> row for conv_choices(): what this process used
_spent_s = 0.0                     # seconds this process has spent measuring
# keys left unmeasured because the budget was spent: lowered by the fixed rule in this
# process, measured by a later one (a program lowered with them is not stored on disk)
_deferred: set = set()
_overrides = threading.local()     # .table: {key: choice} while refine.py lowers a trial


def budget_s() -> float:
    """Seconds one process may spend measuring (env GRAPHNET_AUTOTUNE_BUDGET, default 20):
    past it, new shapes take the fixed rule and are left for a later process to measure, so
    a cold cache costs a bounded first call (ResNet-18's 11 conv shapes took about 60 s to
    measure on a busy 2-core machine)."""
    try:
        return float(os.environ.get("GRAPHNET_AUTOTUNE_BUDGET", "20"))
    except ValueError:
        return 20.0


def set_enabled(enabled: bool | None) -> None:
    """True/False force autotuning on/off; None returns the decision to the environment."""
    global _switch
    _switch = None if enabled is None else bool(enabled)


def enabled() -> bool:
    if _switch is not None:
        return _switch
    value = os.environ.get("GRAPHNET_AUTOTUNE")
    if value is not None and value.strip():
        return value.strip().lower() not in ("0", "false", "off", "no")
    return "PYTEST_CURRENT_TEST" not in os.environ


def cache_path() -> Path:
    """env GRAPHNET_AUTOTUNE_CACHE, else $XDG_CACHE_HOME/graphnet/autotune.json, else
    ~/.cache/graphnet/autotune.json."""
    if os.environ.get("GRAPHNET_AUTOTUNE_CACHE"):
        return Path(os.environ["GRAPHNET_AUTOTUNE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graphnet" / "autotune.json"


def _read_disk(path: Path) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data.get("choices", {}) if isinstance(data, dict) else {}


def _load() -> None:
    global _loaded_from
    path = cache_path()
    if _loaded_from != path:   # a new file (GRAPHNET_AUTOTUNE_CACHE changed): its choices only
        _choices.clear()
        _choices.update(_read_disk(path))
        _loaded_from = path


def _save(key: str, record: dict) -> None:
    """Merge one record into the file: re-read (another process may have added keys), write a
    temporary file beside it, rename over it (readers see the old or the new file, whole)."""
    path = cache_path()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = _read_disk(path)
        merged[key] = record
        fd, tmp = tempfile.mkstemp(prefix=".autotune-", suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump({"version": 1, "choices": merged}, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError as error:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        warnings.warn(f"graphnet: could not write the autotune cache {path}: {error}; the "
                      f"choice is kept in memory only (set GRAPHNET_AUTOTUNE_CACHE to move it)",
                      stacklevel=2)


def clear_memory() -> None:
    """Forget in-memory choices and the budget spent (the disk file stays): the next lookup
    re-reads the file."""
    global _loaded_from, _spent_s
    with _lock:
        _choices.clear()
        _used.clear()
        _loaded_from = None
        _spent_s = 0.0
        _deferred.clear()


def backend_name() -> str:
    """Backend, device kind, JAX version and compile options, and on the CPU the processor
    model and core count: a choice is re-measured when any changes.
    NOTE: a CPU's device kind is just "cpu". Without the processor in the key, a cache file
    kept across machines (a home directory moved to new hardware) handed the MLP's step an
    XLA option set measured on an Intel machine to an AMD one, where it ran 1.36x the
    hand-written jit instead of 1.16x."""
    device = jax.devices()[0]
    cpu = jax.default_backend() == "cpu"
    fusion = f":{xla.current(has_conv=True)}:{processor()}" if cpu else ""
    return (f"{jax.default_backend()}:{getattr(device, 'device_kind', '?')}:jax{jax.__version__}"
            f"{fusion}")


@functools.cache
def processor() -> str:
    """The host's processor model and logical core count, e.g. "AMD EPYC x2"."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Processor", "cpu model")):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown"
    return f"{model} x{os.cpu_count()}"


def _valid(record, offered: dict) -> bool:
    """A cached record was measured over exactly the candidates offered now (a candidate
    added or withdrawn since means measuring again) and names one per direction."""
    if not isinstance(record, dict) or not isinstance(record.get("choice"), dict):
        return False
    measured = {d: sorted(names) for d, names in record.get("times_s", {}).items()}
    return (measured == {d: sorted(names) for d, names in offered.items()}
            and all(record["choice"].get(d) in offered[d] for d in offered))


# A candidate must beat the preferred one (the fixed rule's) by more than this to replace it:
# differences smaller than timing noise on a busy machine would flip choices between runs.
PREFER_MARGIN = 0.05


def _fastest(times: dict, prefer: str | None) -> str:
    best = min(times, key=times.__getitem__)   # ties: the first listed wins
    if prefer in times and times[prefer] <= times[best] * (1 + PREFER_MARGIN):
        return prefer
    return best


def tune(key: str, candidates: dict, make_args: Callable, timer: Callable | None = None,
         info: dict | None = None, prefer: str | dict | None = None,
         split: Callable = _directions) -> dict | None:
    """{direction: name}: the fastest of `candidates` ({name: fn(x, w)}) for each of the
    forward, input-gradient and weight-gradient of `key`, from memory, else from the disk
    cache, else measured now with `timer({(direction, name): fn(x, w, g)}, make_args())` ->
    {(direction, name): seconds} (default `measure`) and saved. A cached choice naming a
    candidate no longer offered is measured again. `prefer` (the fixed rule's choice) is kept
    unless another candidate is more than PREFER_MARGIN faster (a dict: per direction).
    `info` (shapes and options) is kept in the row `conv_choices()` reports. None when this
    needs measuring but the process's measuring budget (budget_s) is spent. `split(fn)` gives
    a candidate's {direction: timed function}; pooling passes its own (pool_autotune.py)."""
    table = getattr(_overrides, "table", None)
    if table and key in table:   # a whole-step refinement is lowering a trial (refine.py)
        return dict(table[key])
    fns = {(direction, name): fn for name, candidate in candidates.items()
           for direction, fn in split(candidate).items()}
    offered = {}
    for direction, name in fns:
        offered.setdefault(direction, []).append(name)
    with _lock:
        _load()
        record = _choices.get(key)
        source = "cache"
        if not _valid(record, offered):
            if _spent_s >= budget_s():
                _deferred.add(key)
                return None
            timer = timer or measure
            start = time.perf_counter()
            with jax.ensure_compile_time_eval():   # run now, even inside a jit trace
                measured = timer(fns, make_args())
            _add_spent(time.perf_counter() - start)
            times = {d: {name: float(measured[d, name]) for name in names}
                     for d, names in offered.items()}
            preferred = prefer if isinstance(prefer, dict) else dict.fromkeys(offered, prefer)
            record = {"choice": {d: _fastest(times[d], preferred.get(d)) for d in offered},
                      "times_s": times}
            _choices[key] = record
            _save(key, record)
            _deferred.discard(key)
            source = "measured"
        choice = dict(record["choice"])
        seen = _used.get(key, {})
        # a row measured in this process stays "measured"; any other is replaced
        if source == "measured" or seen.get("source") != "measured" or seen["choice"] != choice:
            _used[key] = dict(info or {}, key=key, choice=choice,
                              times_s=json.loads(json.dumps(record.get("times_s", {}))),
                              source=source)
        return choice


def deferred(keys) -> list:
    """Those of `keys` this process lowered by the fixed rule because its measuring budget was
    spent, sorted: a program built with them is not the one a later process builds, once
    they are measured (runtime/program_store.py does not keep it)."""
    with _lock:
        return sorted(set(keys) & _deferred)


def changed(rows: list) -> list:
    """The keys of `rows` (a stored program's lowering choices, `conv_choices()` rows) whose
    choice the tuner's cache now gives differently (measured since, or again): a program
    lowered with the old ones is not the one lowering now builds. Empty when autotuning is off
    (every op then takes the fixed rule, whatever the cache holds)."""
    if not rows or not enabled():
        return []
    with _lock:
        _load()
        return [row["key"] for row in rows
                if isinstance(_choices.get(row.get("key")), dict)
                and _choices[row["key"]].get("choice") != row.get("choice")]


def overriding(table: dict):
    """While the block runs (in this thread), tune() returns `table[key]` for the keys it
    holds instead of any measured or cached choice: how a program is lowered with choices
    other than the per-op ones (runtime/refine.py)."""
    return _in_this_thread("table", table)


def types_only():
    """While the block runs (in this thread), the conv and pool kernels are traced only for
    their output types (compiler/shapes.py): they take the fixed rule's lowering, which has
    the same output shape and dtype as every candidate, without choosing, measuring or
    recording anything. (The chosen candidate can be far costlier to trace: LeNet's conv1 as
    25 shifted slices took about 25 ms per type inference.)"""
    return _in_this_thread("types_only", True)


def tracing_types() -> bool:
    """Whether the kernels are being traced only for their output types (types_only)."""
    return bool(getattr(_overrides, "types_only", False))


@contextmanager
def _in_this_thread(setting: str, value):
    """`_overrides.<setting>` is `value` while the block runs, in this thread only."""
    saved = getattr(_overrides, setting, None)
    setattr(_overrides, setting, value)
    try:
        yield
    finally:
        setattr(_overrides, setting, saved)


def stored_record(key: str) -> dict | None:
    """The record cached for `key` (memory, else the disk file), not validated."""
    with _lock:
        _load()
        record = _choices.get(key)
        return dict(record) if isinstance(record, dict) else None


def store_record(key: str, record: dict) -> None:
    """Keep `record` for `key` in memory and on disk."""
    with _lock:
        _load()
        _choices[key] = record
        _save(key, record)


def spend(seconds: float) -> None:
    """Count seconds spent measuring elsewhere (refine.py) against this process's budget."""
    with _lock:
        _add_spent(seconds)


def budget_left() -> float:
    return budget_s() - _spent_s


def _add_spent(seconds: float) -> None:
    global _spent_s
    _spent_s += seconds


def record(key: str, info: dict, choice: dict) -> None:
    """Note a choice made by a fixed rule (autotuning off, or its budget spent), for
    conv_choices()."""
    with _lock:
        _used[key] = dict(info, key=key, choice=dict(choice), times_s={}, source="rule")


def note_used(rows: list) -> None:
    """Note the choices a program loaded from the program store (runtime/program_store.py)
    was lowered with, for conv_choices(): not measured in this process, so "measured" reads
    "cache" here."""
    with _lock:
        for row in rows:
            source = "cache" if row.get("source") == "measured" else row.get("source")
            _used.setdefault(row["key"], dict(row, source=source))


def record_rule(x_shape, w_shape, stride, padding, dilation, groups, dtype, *,
                choice: str) -> None:
    """Note a convolution lowered by the fixed rule's candidate `choice`."""
    key, info = conv_key(x_shape, w_shape, stride, padding, dilation, groups, dtype)
    record(key, info, dict.fromkeys(DIRECTIONS, choice))


def conv_choices() -> list:
    """The lowering of every convolution traced in this process: one dict per key with the
    op, shapes, options, `choice` ({forward, input_grad, weight_grad: candidate}),
    `times_s` ({direction: {candidate: seconds}}, empty for the rule) and `source`
    ("measured" now, read from the "cache", or the fixed "rule"), sorted by key."""
    with _lock:
        return [dict(_used[key]) for key in sorted(_used)]


def conv_key(x_shape, w_shape, stride, padding, dilation, groups, dtype) -> tuple:
    """(key string, info dict) for one convolution."""
    info = {"op": f"conv{len(w_shape) - 2}d", "input": list(x_shape), "weight": list(w_shape),
            "stride": list(stride), "padding": [list(p) for p in padding],
            "dilation": list(dilation), "groups": int(groups), "dtype": str(np.dtype(dtype)),
            "backend": backend_name()}
    return key_of(info), info


def key_of(info: dict) -> str:
    """The cache key of one op's shapes and options: every field, in order."""
    return "|".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in info.items())


def choose_conv(x_shape, w_shape, stride, padding, dilation, groups, dtype,
                timer: Callable | None = None, prefer: str | None = None) -> dict | None:
    """{direction: candidate name}, measured-fastest for this convolution (see tune); None
    when the measuring budget is spent."""
    key, info = conv_key(x_shape, w_shape, stride, padding, dilation, groups, dtype)
    options = candidates_for(x_shape, w_shape, stride, padding, dilation, groups)

    def make_args():
        rng = np.random.default_rng(0)
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        out = jax.eval_shape(lambda a, b: conv_native(a, b, stride, padding, dilation, groups),
                             x, w)
        return x, w, rng.standard_normal(out.shape).astype(dtype)

    bound = {name: (lambda x, w, fn=fn: fn(x, w, stride, padding, dilation, groups))
             for name, fn in options.items()}
    return tune(key, bound, make_args, timer=timer, info=info, prefer=prefer)
