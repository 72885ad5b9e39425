"""The shape-variation axis: one stream of variable-length batches, three ways to run it.

Real sequence data does not come in one shape. Each call here is a training step on a batch
of `batch` token sequences of one length, the lengths drawn from a stated, seeded
distribution of token counts. The same stream of calls runs under three policies:

- `dynamic`: graphnet eager. No graph to build, but each eager op's jitted kernel still
  compiles once per new input shape, so a new length costs kernel compiles here too;
- `static`: `graphnet.compile` on the exact shapes: one graph per distinct length;
- `buckets`: each batch padded up to the next of k boundaries that graphnet proposes from
  the stream's lengths (buckets.py; in training, from one pass over the dataset's lengths),
  the padding masked out of the loss (PyTorch's `ignore_index`), compiled once per bucket.

The model is a per-token tagger, Embedding -> LSTM -> Linear with cross-entropy and plain SGD:
the LSTM runs forwards in time, so padding after a sequence changes none of its outputs and,
with the padded targets ignored, neither the loss nor any gradient (tests check both).

Every batch is made, padded and converted before the timers start; a call's timer stops
once its updated parameters are ready. The policies take turns call by call, so a slower
moment of the machine falls on all three."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import jax
import numpy as np

from ._axis import Context
from .buckets import bucket_for, padding_waste, propose_boundaries

WORKLOAD = "lstm_tagger"
IGNORE = -100      # target of a padded position: cross_entropy's ignore_index, as in PyTorch
PAD_TOKEN = 0      # input token of a padded position (any valid token: its output is ignored)
POLICIES = ("dynamic", "static", "buckets")


@dataclass(frozen=True)
class LengthDistribution:
    """Token counts as real text has them, roughly: log-normal, rounded and clipped."""
    median: float
    sigma: float
    low: int
    high: int

    def sample(self, rng: np.random.Generator, n: int) -> list[int]:
        drawn = rng.lognormal(math.log(self.median), self.sigma, n)
        return [int(v) for v in np.clip(np.round(drawn), self.low, self.high)]

    def describe(self, seed: int) -> str:
        return (f"sequence length = round(LogNormal(mu=ln {self.median:g}, sigma={self.sigma:g}))"
                f" clipped to [{self.low}, {self.high}], numpy default_rng seed {seed}")


@dataclass(frozen=True)
class Sizes:
    vocab: int = 64
    embed: int = 16
    hidden: int = 32
    batch: int = 8
    lr: float = 0.1

    def describe(self) -> str:
        return (f"Embedding({self.vocab},{self.embed}) -> LSTM({self.embed},{self.hidden}) -> "
                f"Linear({self.hidden},{self.vocab}), per-token cross-entropy (padding "
                f"ignored), SGD lr {self.lr:g}, batch {self.batch}")


def tagger(sizes: Sizes, seed: int):
    """The model, its parameters seeded: the same for every policy."""
    import graphnet
    from graphnet import nn

    class LSTMTagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(sizes.vocab, sizes.embed)
            self.lstm = nn.LSTM(sizes.embed, sizes.hidden, batch_first=True)
            self.out = nn.Linear(sizes.hidden, sizes.vocab)

        def forward(self, tokens):
            hidden, _ = self.lstm(self.embed(tokens))
            return self.out(hidden)

    graphnet.manual_seed(seed)
    return LSTMTagger()


@dataclass
class Policy:
    """One way of running the stream: `step(tokens, tags) -> loss`, its model's parameters,
    and the compiled handle (None for dynamic)."""
    step: object
    params: list
    handle: object = None

    def block(self, loss) -> None:
        jax.block_until_ready([loss._value] + [p._value for p in self.params])


def make_policy(sizes: Sizes, seed: int, compiled: bool, cache_size: int = 64) -> Policy:
    """A fresh model and SGD optimizer with a training step, eager or `graphnet.compile`d.
    Plain SGD keeps no state, so a compiled step builds exactly one graph per input shape."""
    import graphnet
    import graphnet.nn.functional as F

    model = tagger(sizes, seed)
    opt = graphnet.optim.SGD(model.parameters(), lr=sizes.lr)

    def train_step(tokens, tags):
        opt.zero_grad()
        logits = model(tokens)
        loss = F.cross_entropy(logits.reshape(-1, sizes.vocab), tags.reshape(-1),
                               ignore_index=IGNORE)
        loss.backward()
        opt.step()
        return loss

    handle = graphnet.compile(train_step, cache_size=cache_size) if compiled else None
    return Policy(handle or train_step, list(model.parameters()), handle)


def make_batch(rng: np.random.Generator, length: int, sizes: Sizes) -> tuple:
    """(tokens, tags), int64 arrays of shape (batch, length): random tokens and tags."""
    shape = (sizes.batch, length)
    return (rng.integers(0, sizes.vocab, shape).astype(np.int64),
            rng.integers(0, sizes.vocab, shape).astype(np.int64))


def pad_batch(tokens: np.ndarray, tags: np.ndarray, length: int) -> tuple:
    """The batch padded on the right to `length`: PAD_TOKEN inputs, IGNORE targets."""
    extra = length - tokens.shape[1]
    if extra < 0:
        raise ValueError(f"pad_batch: the batch is {tokens.shape[1]} long, longer than the "
                         f"bucket {length} it should be padded to")
    return (np.pad(tokens, ((0, 0), (0, extra)), constant_values=PAD_TOKEN),
            np.pad(tags, ((0, 0), (0, extra)), constant_values=IGNORE))


# JAX's monitoring events of a compile (as runtime/xla_timing.py reads them), XLA's last
_COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                   "/jax/core/compile/jaxpr_to_mlir_module_duration",
                   "/jax/core/compile/backend_compile_duration")


class _XlaCompiles:
    """XLA programs compiled, and the seconds JAX spent lowering and compiling them, while
    active: what the dynamic policy's eager kernels cost on new shapes (JAX's own events)."""
    # NOTE: JAX cannot unregister a listener: one is registered for the process, and feeds
    # whichever collectors are active.
    _registered = False
    _active: list = []

    def __init__(self):
        self.count, self.seconds = 0, 0.0

    @classmethod
    def _listen(cls, event: str, duration: float, **_metadata) -> None:
        for collector in cls._active:
            if event in _COMPILE_EVENTS:
                collector.seconds += duration
                collector.count += event == _COMPILE_EVENTS[-1]

    def __enter__(self):
        if not _XlaCompiles._registered:
            jax.monitoring.register_event_duration_secs_listener(_XlaCompiles._listen)
            _XlaCompiles._registered = True
        _XlaCompiles._active.append(self)
        return self

    def __exit__(self, *exc):
        _XlaCompiles._active.remove(self)


def graph_compile_seconds(handle) -> float:
    """Tracing, graphnet's passes, JAX lowering and XLA compile, summed over the graphs the
    compiled step built (from its `explain()`). A graph whose program came from JAX's
    persistent cache recorded no XLA compile: its first run (load + run) stands in, as in
    `bench.compile_cost`."""
    total = 0.0
    for graph in handle.explain()["per_graph"]:
        total += graph["trace_s"] + graph["passes_s"]
        if graph.get("xla_compile_s", 0.0) > 0:
            total += graph["jax_lowering_s"] + graph["xla_compile_s"]
        else:
            total += graph["first_run_s (XLA compile + run)"]
    return total


def settings_for(ctx: Context) -> dict:
    """Calls, buckets and the length distribution for this preset."""
    return {
        "calls": ctx.pick(6, 40, 120),
        "buckets": ctx.pick(2, 4, 6),
        # NOTE: every distinct length costs a compile in every policy but buckets (about a
        # second each on 2 CPU cores), so the spread of lengths, not the number of calls,
        # sets this axis's run time; quick and default keep it narrow.
        "distribution": ctx.pick(LengthDistribution(6, 0.2, 5, 8),
                                 LengthDistribution(10, 0.3, 4, 24),
                                 LengthDistribution(16, 0.5, 4, 64)),
    }


def measure(ctx: Context) -> dict:
    """`results["axes"]["shapes"]`, as docs/compare.md documents it."""
    chosen, sizes = settings_for(ctx), Sizes()
    rng = np.random.default_rng(ctx.seed)
    lengths = chosen["distribution"].sample(rng, chosen["calls"])
    batches = [make_batch(rng, n, sizes) for n in lengths]
    boundaries = propose_boundaries(lengths, chosen["buckets"])
    room = len(set(lengths)) + len(boundaries)    # never fall back to eager for want of slots
    policies = {"dynamic": make_policy(sizes, ctx.seed, False),
                "static": make_policy(sizes, ctx.seed, True, cache_size=room),
                "buckets": make_policy(sizes, ctx.seed, True, cache_size=room)}
    inputs = {name: [as_tensors(*b) for b in batches] for name in ("dynamic", "static")}
    inputs["buckets"] = [as_tensors(*pad_batch(*b, bucket_for(n, boundaries)))
                         for n, b in zip(lengths, batches)]
    per_call = {name: [] for name in POLICIES}
    compile_calls = {name: [] for name in POLICIES}   # indices of the calls that compiled
    eager_compiles = _XlaCompiles()

    def compiled_so_far(name: str) -> int:
        handle = policies[name].handle
        return eager_compiles.count if handle is None else len(handle.compiled.artifacts)

    for i, n in enumerate(lengths):
        ctx.progress(f"shape variation: call {i + 1}/{len(lengths)} (length {n})")
        for name in POLICIES[i % 3:] + POLICIES[:i % 3]:   # interleaved, the lead rotating
            policy, before = policies[name], compiled_so_far(name)
            with eager_compiles if name == "dynamic" else contextlib.nullcontext():
                start = time.perf_counter()
                policy.block(policy.step(*inputs[name][i]))
                per_call[name].append(time.perf_counter() - start)
            if compiled_so_far(name) > before:
                compile_calls[name].append(i)
    compiles = {"dynamic": (eager_compiles.count, eager_compiles.seconds)}
    for name in ("static", "buckets"):
        explained = policies[name].handle.explain()
        assert not explained["fell_back"], f"{name}: cache_size {room} too small"
        compiles[name] = (explained["graphs"], graph_compile_seconds(policies[name].handle))
    return {
        "settings": {"distribution": chosen["distribution"].describe(ctx.seed),
                     "calls": chosen["calls"], "buckets": chosen["buckets"],
                     "model": sizes.describe(),
                     "compiles": "static, buckets: graphs compiled (explain()); dynamic: XLA "
                                 "programs compiled for eager kernels (JAX's events)"},
        "workloads": {WORKLOAD: {
            "lengths": lengths,
            "policies": {name: {"per_call_s": per_call[name], "total_s": sum(per_call[name]),
                                "compiles": compiles[name][0], "compile_s": compiles[name][1],
                                "compile_calls": compile_calls[name]}
                         for name in POLICIES},
            "buckets": {"boundaries": boundaries,
                        "padding_waste": padding_waste(lengths, boundaries)}}},
    }


def as_tensors(tokens: np.ndarray, tags: np.ndarray) -> tuple:
    """The batch as graphnet tensors, the step's arguments."""
    import graphnet

    return graphnet.from_numpy(tokens), graphnet.from_numpy(tags)

