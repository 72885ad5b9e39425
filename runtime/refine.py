"""Whole-step refinement: the per-op lowering choices checked inside the program they serve.

The conv and pool autotuner (graphnet/_ops/conv_autotune.py) times each candidate's forward,
input gradient and weight gradient alone. Inside a training step XLA fuses each result into
the ops that read it, and the order can change: at batch 128, LeNet's conv2 input gradient
timed 2.4x slower alone as shifted slices than as patches + matmul, yet made the whole step
15% faster. So on a static program's first call (autotuning on, budget left), every
alternative whose per-op time was within WITHIN of the chosen one, and on the CPU each other
XLA option set that computes right (graphnet/_xla.py `SAFE_SETS`), is tried as one change to
the whole program: lowered (the tuner answers with the trial's choice,
conv_autotune.overriding), compiled (a thread per
core), run as a chain of CHAIN calls from copies of the call's inputs (each call's written
state fed to the next), interleaved with the unchanged program, each trial's time the median
of its ratios to the unchanged program's in the same round. Changes that beat it by MIN_GAIN
are kept: the best one, then the best of it combined with each of the next GREEDY improving
changes, if that is faster still (changes interact: two that each helped LeNet's step were
slower together). Before any trial, the program is compiled donating every buffer it
overwrites, parameters included (runtime/artifact.py donates the state read once by
default): those XLA does not copy first are donated by the refined program and its trials
(`copied_inputs`). The result is cached on disk with the per-op choices, keyed by a hash
of the program's graph (`step_key`), so a later process lowers the refined program without
measuring or lowering it twice.

Not refined (and nothing stored): a program some of whose ops the tuner left to the fixed
rule because the process's measuring budget ran out while it was lowered; a later process
measures them, then refines. Not refined: programs that print (a trial would print), over
several devices, whose state-only prologue is hoisted (hoist.py), or of more than MAX_OPS ops;
dynamic mode's per-op kernels; plan mode."""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
from graphnet import _xla as xla
from graphnet._ops import conv_autotune, conv_candidates, lowering_choices, pool_candidates

from .donation_order import front, moved, to_front

WITHIN = 3.0      # alternatives whose per-op time is within this factor of the chosen one
MIN_GAIN = 0.05   # a change must make the step this much faster to be kept
ROUNDS = 7        # timed rounds per trial, after one untimed
CHAIN = 4         # calls per timed run, each feeding its written state to the next
GREEDY = 3        # other improving changes tried on top of the best one
MIN_TRIALS = 8    # a program whose budget allows fewer trials is left as it is
MAX_TRIALS = 24   # at most this many whole-program trials
# NOTE: only graphs of at most MAX_OPS ops are refined. ResNet-18's step (212 ops) compiles in
# about 6 s per trial, and each XLA-CPU executable of it holds about 1,500 memory mappings that
# outlive the executable: a dozen trials took the process past the kernel's limit of 65,530
# ("LLVM ERROR: Unable to allocate section memory"). LeNet's step has 15 ops, the MLP's 8, the
# Transformer's 54.
MAX_OPS = 100
# Part of every refinement's cache key: records measured before a program's outputs were
# paired with its donated buffers (runtime/donation_order.py) timed a different program, and
# are measured again.
PROGRAM_FORM = "outputs paired with donated buffers"


@dataclass
class Refinement:
    overrides: dict                  # op key -> {direction: candidate}
    option_set: str | None           # XLA option set (CPU), None where there is none
    times_s: dict = field(default_factory=dict)   # trial label -> seconds per step
    source: str = "measured"         # or "cache"
    # which inputs the program donates: "read-once" (the Artifact's own choice), "written"
    # (every buffer the step overwrites, parameters included) or "uncopied" (those of them
    # XLA updates in place); `donated` lists them (None: the Artifact's own)
    donation: str = "read-once"
    donated: list | None = None

    def summary(self) -> dict:
        return {"overrides": self.overrides, "option_set": self.option_set,
                "donation": self.donation,
                "donated": None if self.donated is None else len(self.donated),
                "times_s": self.times_s, "source": self.source}


def applies(prints, split, arrays, graph) -> bool:
    if prints or split is not None or not conv_autotune.enabled() \
            or len(graph.nodes) > MAX_OPS:
        return False
    return all(len(getattr(getattr(a, "sharding", None), "device_set", ())) <= 1
               for a in arrays)


def wrap(run_fn, overrides: dict):
    """run_fn, lowered with `overrides` whenever JAX traces it."""
    if not overrides:
        return run_fn

    def run(*arrays):
        with conv_autotune.overriding(overrides):
            return run_fn(*arrays)
    return run


def _option_sets(has_conv: bool) -> tuple:
    """(the rule's set, the other sets to try: those that compute right, `xla.SAFE_SETS`);
    no sets off the CPU or when the user forced one."""
    if jax.default_backend() != "cpu":
        return None, []
    rule = xla.current(has_conv)
    return rule, [] if xla.forced() else [name for name in xla.SAFE_SETS if name != rule]


def refine(run_fn, arrays, donated, graph, has_conv: bool, written=(),
           feedback=None) -> Refinement | None:
    """The refinement of this program (cached, or measured now), None when the measuring
    budget is spent. `donated`: the inputs the program donates; `written`: every input it
    overwrites (a superset), tried as the other donation; `feedback`: output position ->
    the input position it becomes on the next call (trials are timed as chains of calls)."""
    feedback = feedback or {}
    copied = set(donated) | set(written)   # inputs a trial may consume: fresh copies each run
    key = step_key(graph, donated, has_conv)
    record = conv_autotune.stored_record(key)
    if record is not None and record.get("kind") == "step" and \
            record.get("option_set") in (None, *xla.SAFE_SETS):   # a known-wrong set: again
        return Refinement(record["overrides"], record["option_set"], {}, "cache",
                          record.get("donation", "read-once"), record.get("donated"))
    if conv_autotune.budget_left() <= 0:
        return None
    start = time.perf_counter()
    rule_set, other_sets = _option_sets(has_conv)
    # Which overwritten buffers to donate besides the state read once (the parameters):
    # those XLA updates in place. Compiled donating all of them, the program shows which it
    # copies first (a weight the backward still reads after the update could be written);
    # donating a copied buffer adds a copy per step (ResNet-18's conv weights: 6% slower),
    # donating the others saves an allocation per step (the MLP's step 5-12% faster). Read
    # from the compiled program, not timed: trials timed 1-7% apart on the MLP.
    donation, base = "read-once", None
    if set(written) - set(donated):
        lowered = _donating(run_fn, written, feedback).lower(*arrays)
        compiled, _ = xla.compile_lowered(lowered, rule_set)
        copies = copied_inputs(compiled.as_text()) & (set(written) - set(donated))
        if not copies:
            donation, donated = "written", list(written)
            base, base_compiled = lowered, compiled
        elif len(copies) < len(set(written) - set(donated)):
            donation, donated = "uncopied", [i for i in written if i not in copies]
    one_trial = start
    if base is None:
        one_trial = time.perf_counter()
        base = _donating(run_fn, donated, feedback).lower(*arrays)
        base_compiled, _ = xla.compile_lowered(base, rule_set)
    base_text = base.as_text()
    if conv_autotune.deferred(lowering_choices.keys(graph)):
        # NOTE: the budget ran out while the program was lowered: some of its ops took the
        # fixed rule, and a refinement judged on them and stored would stand for good; a later
        # process measures them first, then refines
        conv_autotune.spend(time.perf_counter() - start)
        return None
    # NOTE: what one trial costs, lowering and compiling the whole program (compiles run two
    # at a time on two cores), bounds how many the budget allows: LeNet's step compiles in
    # 0.3 s and gets every trial; ResNet-18's takes about 6 s, more than a fair share of the
    # budget for even the option sets, so it is left as it is (and that is remembered).
    trial_s = max(time.perf_counter() - one_trial, 1e-3)
    workers = max(1, min(4, os.cpu_count() or 1))
    allowed = min(MAX_TRIALS,
                  int(conv_autotune.budget_left() / (trial_s / workers + trial_s / 4)))
    if allowed < MIN_TRIALS:
        conv_autotune.store_record(key, {"kind": "step", "overrides": {},
                                         "option_set": rule_set, "donation": donation,
                                         "donated": donated,
                                         "times_s": {"compile_unchanged": trial_s}})
        conv_autotune.spend(time.perf_counter() - start)
        return Refinement({}, rule_set, {"compile_unchanged": trial_s}, donation=donation,
                          donated=list(donated))
    trials = {"unchanged": ({}, rule_set, base, base_compiled)}
    for name in other_sets:
        trials[f"options={name}"] = ({}, name, base, None)
    proposals = []   # (per-op time / chosen's, row, direction, alternative)
    for row in lowering_choices.for_graph(graph):
        for direction, chosen in row["choice"].items():
            times = row["times_s"].get(direction, {})
            if not _matters(row, direction, graph) or chosen not in times:
                continue
            proposals += [(seconds / times[chosen], row, direction, alternative)
                          for alternative, seconds in times.items()
                          if alternative != chosen and seconds <= WITHIN * times[chosen]]
    changes = {}   # label -> (op key, the op's per-op choice, direction, alternative)
    for _, row, direction, alternative in sorted(proposals, key=lambda p: p[0]):
        if len(trials) >= allowed:
            break
        overrides = {row["key"]: dict(row["choice"], **{direction: alternative})}
        lowered = _donating(wrap(run_fn, overrides), donated, feedback).lower(*arrays)
        if lowered.as_text() != base_text:   # an unused direction changes nothing
            label = f"{row['node']} {direction}={alternative}"
            trials[label] = (overrides, rule_set, lowered, None)
            changes[label] = (row["key"], row["choice"], direction, alternative)
    chain = _moved_feedback(feedback, donated)
    times = _time(trials, arrays, copied, chain)
    best = min(times, key=times.__getitem__)
    chosen_overrides, chosen_set = {}, rule_set
    if times[best] < times["unchanged"] * (1 - MIN_GAIN):
        chosen_overrides, chosen_set = trials[best][0], trials[best][1]
        gains = sorted((label for label in changes if label != best
                        and times[label] < times["unchanged"] * (1 - MIN_GAIN)),
                       key=times.__getitem__)[:GREEDY]
        if best in changes and gains:   # each other improving change on top of the best
            tried = {}
            for label in gains:
                op_key, choice, direction, alternative = changes[label]
                merged = {k: dict(v) for k, v in chosen_overrides.items()}
                merged.setdefault(op_key, dict(choice))[direction] = alternative
                if merged != chosen_overrides:
                    lowered = _donating(wrap(run_fn, merged), donated, feedback).lower(*arrays)
                    tried[f"{best} + {label}"] = (merged, rule_set, lowered, None)
            if tried:
                again = _time({best: trials[best], **tried}, arrays, copied, chain)
                times.update({label: again[label] for label in tried})
                top = min(tried, key=again.__getitem__)
                if again[top] < again[best] * (1 - MIN_GAIN):
                    chosen_overrides = tried[top][0]
    conv_autotune.store_record(key, {"kind": "step", "overrides": chosen_overrides,
                                     "option_set": chosen_set, "donation": donation,
                                     "donated": donated, "times_s": times})
    conv_autotune.spend(time.perf_counter() - start)
    return Refinement(chosen_overrides, chosen_set, times, donation=donation,
                      donated=list(donated))


def _donating(fn, donated, feedback: dict):
    """jax.jit of `fn` donating `donated`, each buffer paired with the output that overwrites it
    (runtime/donation_order.py): its outputs come in that order (`_moved_feedback`)."""
    into = {i: o for o, i in feedback.items()}
    return jax.jit(to_front(fn, front(donated, into)), donate_argnums=tuple(donated))


def _moved_feedback(feedback: dict, donated) -> dict:
    """`feedback` for the outputs of a `_donating(fn, donated, feedback)` program."""
    first = front(donated, {i: o for o, i in feedback.items()})
    return {moved(o, first): i for o, i in feedback.items()}


def step_key(graph, donated, has_conv: bool) -> str:
    """The cache key of a program's refinement: a hash of its graph as printed (ops, attributes,
    types), what it donates and the XLA option set the rule gives it, on this backend.
    NOTE: no lowering is needed to compute it (keying by the StableHLO's hash, as before,
    cost LeNet's step a whole extra lowering on every warm first call, about 100 ms). Nor
    are the per-op choices part of it: on a first process they are measured while the
    program is lowered, after this key is needed. A key shared by two programs, or choices
    re-measured since, could only give a program choices measured for another: every
    candidate and option set computes the same values, so at worst it runs slower. The
    names of the lowering candidates are part of it: one added (or withdrawn) since means
    refining again, as it means measuring each op again (conv_autotune._valid)."""
    offered = sorted(conv_candidates.CANDIDATES) + sorted(pool_candidates.CANDIDATES)
    text = "\n".join([str(graph), json.dumps(sorted(donated)), str(xla.current(has_conv)),
                      json.dumps(offered), PROGRAM_FORM])
    info = {"op": "step", "graph_sha256": hashlib.sha256(text.encode()).hexdigest()[:32],
            "backend": conv_autotune.backend_name()}
    return conv_autotune.key_of(info)


def copied_inputs(hlo: str) -> set:
    """The parameter numbers of a compiled program (`hlo`: XLA's optimised HLO text) that its
    entry computation copies as they are: for a donated input, the copy XLA makes when it
    cannot write the output over the buffer in place (another read may come later)."""
    entry = hlo[hlo.index("\nENTRY"):] if "\nENTRY" in hlo else hlo
    numbers = {m.group(1): int(m.group(2))
               for m in re.finditer(r"(%[\w.\-]+) = [^\n]*? parameter\((\d+)\)", entry)}
    return {numbers[m.group(1)]
            for m in re.finditer(r"= [^\n]*? copy(?:-start)?\((%[\w.\-]+)\)", entry)
            if m.group(1) in numbers}


def _matters(row: dict, direction: str, graph) -> bool:
    """Whether the program runs this direction of the op: a training step (a graph that
    differentiates) takes a pool's values from its gradient form, and nothing needs the
    gradient of a data argument (NOTE: one that requires grad, rare in a step, is then not
    refined in that direction)."""
    differentiates = graph.differentiates()
    if direction == "forward" and row["op"].startswith("max_pool"):
        return not differentiates
    if direction != "forward" and not differentiates:
        return False
    if direction == "input_grad":
        return row.get("input_kind") != "arg"
    return True


def _time(trials: dict, arrays, donated: set, feedback: dict | None = None) -> dict:
    """{label: seconds per run}: each trial's program (overrides, option set, lowered, compiled
    or None) compiled unless it was, then run CHAIN times in a row from fresh copies of the
    donated inputs (a donated buffer is consumed), each call's written state fed to the next
    (`feedback`) and only the last waited for, as a training loop runs; interleaved with the
    first trial (the reference); the minimum of ROUNDS timed rounds.

    NOTE: one call at a time, each waited for, ranked donating the MLP's parameters as no
    gain in two of three runs; chained as here it was 13-15% faster, as in the bench.

    Trials are compiled a few at a time (one per core) and dropped once timed (see MAX_OPS
    for why fewer live executables matter)."""
    labels = list(trials)
    reference = labels[0]
    workers = max(1, min(len(labels), os.cpu_count() or 1))
    held = {reference: trials[reference][3] or _compile(trials[reference])}
    seconds = {label: [] for label in labels}
    ratios = {label: [] for label in labels}   # to the reference, in the same round
    rest = labels[1:]
    for i in range(0, max(len(rest), 1), workers):
        batch = rest[i:i + workers]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {label: pool.submit(_compile, trials[label]) for label in batch}
            compiled = {label: futures[label].result() for label in batch}
        compiled[reference] = held[reference]
        order = list(compiled)
        for round_ in range(ROUNDS + 1):
            # rotated, so that no program always runs first (it measured 30% slower there)
            shift = round_ % len(order)
            this_round = {}
            for label in order[shift:] + order[:shift]:
                program = compiled[label]
                inputs = [jnp.copy(a) if j in donated else a for j, a in enumerate(arrays)]
                jax.block_until_ready(inputs)
                start = time.perf_counter()
                for _ in range(CHAIN):
                    outs = program(*inputs)
                    for out, into in (feedback or {}).items():
                        inputs[into] = outs[out]
                jax.block_until_ready(outs)
                this_round[label] = (time.perf_counter() - start) / CHAIN
            if round_:
                for label, value in this_round.items():
                    seconds[label].append(value)
                    ratios[label].append(value / this_round[reference])
        del compiled, futures
    typical = statistics.median(seconds[reference])
    return {label: typical * statistics.median(ratios[label]) for label in labels}


def _compile(trial):
    overrides, option_set, lowered, compiled = trial
    return compiled or xla.compile_lowered(lowered, option_set)[0]
