"""`graphnet.track_memory()`: the peak memory of eager (dynamic-mode) code, measured by
graphnet as it runs, not estimated.

    with graphnet.track_memory() as m:
        train_step()
    m.peak_above_baseline      # bytes: the most the step held at once beyond what was live

What is counted: the device buffers of every `jax.Array` alive in this process (on JAX's
default backend), each buffer once however many arrays share it. That is whatever Python
holds (tensors, parameters, the batch, gradients, optimizer state), the tape's saved residuals
(a `TapeNode` keeps its op's inputs until backward frees them, so `requires_grad` code holds
more than the same code under `no_grad`) and the cotangents in flight during backward. What is
not: XLA's temporaries inside one kernel (they are freed before the kernel returns; static
mode's counterpart is XLA's `temp_size_in_bytes`), compiled executables, host memory (NumPy
arrays), arrays on other backends.

When: the eager path samples after every op it runs (graphnet._dispatch.run_eager) and after
the VJP of every op it recorded while tracking (in backward), and the tracker samples when the
block begins and ends. Live bytes grow only when something allocates, and every op and every
VJP returns through one of those points, so the largest sample is the peak of live arrays. Arrays
made elsewhere (backward's gradient sums between two VJPs, factories that build an array
directly, a compiled call, which is one XLA program) are seen at the next sample if still
alive; one freed before it is missed.

Cost: with no tracker active, one test of a module global per eager op (a few nanoseconds).
While tracking, each sample walks `jax.live_arrays()` once (sizes cached per array, dropped by
a weakref when the array dies): about 7 us plus 0.15 us per live array (measured on a
2-core cloud VM), so 50 us per op with 300 arrays alive.

On a device whose allocator reports statistics (GPU), the tracker also reads the device's own
numbers: `device_baseline_bytes` (bytes in use when the block began) and `device_peak_bytes`
(the most in use during the block: the allocator's all-time peak where that rose inside the
block, which then includes XLA's temporaries, else the largest `bytes_in_use` sampled). On CPU
both are None."""

from __future__ import annotations

import gc
import weakref

import jax

from . import _dispatch


class MemoryTracker:
    """What `track_memory()` measured, in bytes; readable during and after the block.

    `baseline_bytes`: live when the block began. `peak_bytes`: the largest live total sampled
    (baseline included). `peak_above_baseline`: the difference, what the block itself added
    at its peak. `peak_at`: where the peak was sampled (`"mul"` after an op, `"mul backward"`
    after its VJP, `"start"`, `"end"`). `samples`: how many samples were taken. The device's
    own figures (None where it has none): `device_baseline_bytes`, `device_peak_bytes`.

    >>> with graphnet.track_memory() as m:
    ...     y = x * 2 + 1          # x: 1000 float32 (4000 bytes), live before the block
    >>> m.peak_above_baseline      # x * 2 and y alive together while `+ 1` runs
    8000
    """

    def __init__(self):
        self.baseline_bytes = 0
        self.peak_bytes = 0
        self.peak_at = "start"
        self.samples = 0
        self.device_baseline_bytes: int | None = None
        self.device_peak_bytes: int | None = None
        self._device_peak_before: int | None = None
        self._active = False

    @property
    def peak_above_baseline(self) -> int:
        return self.peak_bytes - self.baseline_bytes

    def __enter__(self) -> "MemoryTracker":
        if self._active:
            raise RuntimeError("this track_memory() block is already running; start a new "
                               "one with `with graphnet.track_memory() as m:`")
        gc.collect()   # NOTE: garbage in reference cycles is not live; drop it first
        self._active = True
        stats = _device_stats()
        if stats is not None:
            self.device_baseline_bytes = self.device_peak_bytes = stats.get("bytes_in_use", 0)
            self._device_peak_before = stats.get("peak_bytes_in_use")
        live = _probe.start(self)
        self.baseline_bytes = self.peak_bytes = live
        self.peak_at, self.samples = "start", 1
        return self

    def __exit__(self, *exc) -> None:
        _probe.sample("end")
        _probe.stop(self)
        self._active = False
        stats = _device_stats()
        if stats is not None:
            peak = stats.get("peak_bytes_in_use")
            if peak is not None and self._device_peak_before is not None \
                    and peak > self._device_peak_before:   # a new all-time peak: inside
                self.device_peak_bytes = max(self.device_peak_bytes, peak)

    def _observe(self, live: int, where: str, device_in_use: int | None) -> None:
        self.samples += 1
        if live > self.peak_bytes:
            self.peak_bytes, self.peak_at = live, where
        if device_in_use is not None and self.device_peak_bytes is not None:
            self.device_peak_bytes = max(self.device_peak_bytes, device_in_use)

    def __repr__(self) -> str:
        return (f"MemoryTracker(baseline_bytes={self.baseline_bytes}, peak_bytes="
                f"{self.peak_bytes}, peak_above_baseline={self.peak_above_baseline}, "
                f"peak_at={self.peak_at!r}, samples={self.samples})")


def track_memory() -> MemoryTracker:
    """Measure the peak of live device buffers while a block of eager code runs.

    >>> with graphnet.track_memory() as m:
    ...     loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()
    >>> m.baseline_bytes, m.peak_bytes, m.peak_above_baseline

    Blocks may nest (each sees every sample taken while it is open); ops run by other threads
    meanwhile are sampled too, as live memory belongs to the process. Compiled calls run as
    one XLA program and are sampled only around it: for static mode, use XLA's memory
    analysis (`graphnet dump --format plan`, `graphnet compare`)."""
    return MemoryTracker()


def live_bytes() -> int:
    """Bytes of the device buffers of all live jax.Arrays now (each buffer once)."""
    return _probe.live_bytes() if _probe.trackers else _sum_buffers(jax.live_arrays(), {})


def _sum_buffers(arrays, sizes: dict, remember=None) -> int:
    """Total bytes of the buffers under `arrays`, each counted once. `sizes` caches
    id(array) -> (buffer key, bytes); `remember(array, key)` is called for each new entry."""
    seen = {}
    for a in arrays:
        entry = sizes.get(id(a))
        if entry is None:
            entry = sizes[id(a)] = _buffer_of(a)
            if remember is not None:
                remember(a)
        seen[entry[0]] = entry[1]
    return sum(seen.values())


def _buffer_of(a) -> tuple:
    """(what identifies the array's storage, its bytes). One device: the buffer's address
    (two arrays over the same buffer count once). Sharded: the array itself, with the bytes
    of all its shards (a replicated array occupies every device it is on)."""
    if len(a.sharding.device_set) == 1:
        return ("buffer", a.unsafe_buffer_pointer()), a.nbytes
    return ("array", id(a)), sum(s.data.nbytes for s in a.addressable_shards)


def _device_stats() -> dict | None:
    try:
        return jax.local_devices()[0].memory_stats()
    except Exception:   # NOTE: backends without statistics raise or return None
        return None


class _Probe:
    """The one object graphnet._dispatch calls while any tracker is active: it takes each
    sample once and hands it to every open tracker."""

    def __init__(self):
        self.trackers: list[MemoryTracker] = []
        self.sizes: dict = {}       # id(array) -> (buffer key, bytes), while the array lives
        self.refs: dict = {}        # id(array) -> weakref whose callback drops the entry
        self.device_stats = False   # whether to read the device's bytes_in_use per sample

    def start(self, tracker: MemoryTracker) -> int:
        self.trackers.append(tracker)
        self.device_stats = tracker.device_baseline_bytes is not None
        _dispatch.memory_probe = self
        return self.live_bytes()

    def stop(self, tracker: MemoryTracker) -> None:
        self.trackers.remove(tracker)
        if not self.trackers:
            _dispatch.memory_probe = None
            self.sizes.clear()
            self.refs.clear()    # the weakrefs die with the dict: no callbacks later

    def live_bytes(self) -> int:
        return _sum_buffers(jax.live_arrays(), self.sizes, self._remember)

    def _remember(self, a) -> None:
        key, sizes, refs = id(a), self.sizes, self.refs
        # NOTE: the callback runs as the array dies, before its id can be reused
        refs[key] = weakref.ref(a, lambda _, key=key: (sizes.pop(key, None),
                                                       refs.pop(key, None)))

    def sample(self, where: str) -> None:
        live = self.live_bytes()
        device = None
        if self.device_stats:
            stats = _device_stats()
            device = stats.get("bytes_in_use") if stats else None
        for tracker in self.trackers:
            tracker._observe(live, where, device)

    def sampled(self, vjp, op: str) -> "_SampledVjp":
        """`vjp` (a tape node's) made to sample after it runs."""
        return _SampledVjp(vjp, op)


class _SampledVjp:
    """A tape node's VJP that samples live memory after it runs, while a tracker is active.
    It equals and hashes like the VJP it wraps: a `vjp` op keyed on it (backward with
    create_graph=True) finds the kernel already compiled for that VJP."""

    __slots__ = ("fn", "where")

    def __init__(self, fn, op: str):
        self.fn, self.where = fn, f"{op} backward"

    def __call__(self, primals, cts):
        out = self.fn(primals, cts)
        probe = _dispatch.memory_probe
        if probe is not None:
            probe.sample(self.where)
        return out

    def __eq__(self, other) -> bool:
        return self.fn == (other.fn if isinstance(other, _SampledVjp) else other)

    def __hash__(self) -> int:
        return hash(self.fn)


_probe = _Probe()
