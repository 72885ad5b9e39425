"""The collectives XLA inserted into a compiled program, read from its optimized HLO.

graphnet adds no communication of its own: under a mesh, XLA's SPMD partitioner decides where
the devices exchange data (one combined all-reduce of the gradients for data parallelism,
all-gathers of the parameters for fsdp). This module lists what it decided, for explain(),
the dumps and the data-parallel axis of `graphnet compare`.

>>> compiled = jax.jit(step).lower(params, x, y).compile()
>>> format_collectives(collectives(compiled))
'all-reduce x2, 1.0 MiB per step (8 buffers)'

"bytes" is per device and per execution of the program: the size of the whole buffer one
device takes part with, from the HLO shapes (elements x dtype size, summed over the arrays
one instruction combines):

- all-reduce: its operands (= its results): the values every device sums;
- all-gather: its results: the gathered array every device ends up with;
- reduce-scatter: its operands: the full array every device reduces before it is split;
- all-to-all, collective-permute (and ragged-all-to-all, collective-broadcast): the
  operands each device sends (= what it receives).

That is the larger of operand and result size in every case. The bytes on the wire depend on
the algorithm (a ring all-reduce over n devices moves 2(n-1)/n of it each way). An
instruction inside a while loop's body is listed once, with `in_loop` set: its executions per
step depend on the trip count, which this reading does not know."""

from __future__ import annotations

import re

KINDS = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "ragged-all-to-all",
         "collective-permute", "collective-broadcast")

# NOTE: bits, not bytes, so that sub-byte types (s4, f4e2m1fn) round up per array.
_DTYPE_BITS = {"pred": 8, "s2": 2, "u2": 2, "s4": 4, "u4": 4, "f4e2m1fn": 4, "s8": 8, "u8": 8,
               "s16": 16, "u16": 16, "f16": 16, "bf16": 16, "s32": 32, "u32": 32, "f32": 32,
               "s64": 64, "u64": 64, "f64": 64, "c64": 64, "c128": 128, "token": 0}
_ARRAY = re.compile(r"([a-z][a-z0-9]*)\[([^\]]*)\]")
_INSTRUCTION = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(.*)$")
_CALLED = re.compile(r"\b(?:body|condition|calls|to_apply|branch_computations|"
                     r"true_computation|false_computation)=(\{[^}]*\}|%?[\w.\-]+)")
_COMMENT = re.compile(r"/\*.*?\*/")


def collectives(compiled) -> list[dict]:
    """One dict per collective instruction of `compiled`, in program order.

    `compiled` is a `jax.stages.Compiled` (`jax.jit(f).lower(*args).compile()`), a
    `jax.stages.Lowered` (compiled here) or optimized HLO text. Each dict: `kind` (one of
    KINDS; an async pair `all-reduce-start`/`-done` is one `all-reduce`), `name` (the HLO
    instruction), `bytes` (see the module docstring), `buffers` (arrays it carries: XLA
    combines several gradients into one all-reduce), `shapes` (their HLO shapes), `groups`
    (replica_groups or source_target_pairs as the HLO writes them, None without),
    `in_loop` (inside a while body: runs once per iteration)."""
    text = _hlo_text(compiled)
    computations = _parse(text)
    shapes = {name: shape for body in computations.values() for name, shape, _, _, _ in body}
    done_results = {}
    for body in computations.values():
        for _, shape, opcode, operands, _ in body:
            if opcode.endswith("-done") and opcode[:-len("-done")] in KINDS and operands:
                done_results[operands[0]] = shape
    looped = _loop_computations(computations)
    found = []
    for computation, body in computations.items():
        for name, shape, opcode, operands, attributes in body:
            kind = opcode[:-len("-start")] if opcode.endswith("-start") else opcode
            if kind not in KINDS:
                continue
            sent = [shapes[o] for o in operands if o in shapes]
            if len(sent) != len(operands):
                missing = [o for o in operands if o not in shapes]
                raise ValueError(f"collectives: {name} = {opcode}(...) reads {missing}, "
                                 f"which no instruction of the HLO defines")
            result = done_results.get(name, shape) if opcode.endswith("-start") else shape
            operand_bytes = sum(shape_bytes(s) for s in sent)
            found.append({
                "kind": kind, "name": name,
                "bytes": max(operand_bytes, shape_bytes(result)),
                "buffers": len(sent), "shapes": sent,
                "groups": _attribute(attributes, "replica_groups")
                or _attribute(attributes, "source_target_pairs"),
                "in_loop": computation in looped,
            })
    return found


def summarize(found: list[dict]) -> dict:
    """`{kind: {"count": instructions, "bytes": summed bytes}}` of `collectives(...)`, kinds in
    KINDS order; {} for a program without collectives."""
    summary = {}
    for kind in KINDS:
        of_kind = [c for c in found if c["kind"] == kind]
        if of_kind:
            summary[kind] = {"count": len(of_kind), "bytes": sum(c["bytes"] for c in of_kind)}
    return summary


def format_collectives(found: list[dict]) -> str:
    """A few lines for explain() and the dumps: one per kind, e.g.
    `all-reduce x2, 1.0 MiB per step (8 buffers)`, or `no collectives`."""
    if not found:
        return "no collectives"
    lines = []
    for kind, totals in summarize(found).items():
        of_kind = [c for c in found if c["kind"] == kind]
        buffers = sum(c["buffers"] for c in of_kind)
        line = f"{kind} x{totals['count']}, {format_bytes(totals['bytes'])} per step"
        if buffers != totals["count"]:
            line += f" ({buffers} buffers)"
        looped = sum(c["in_loop"] for c in of_kind)
        if looped:
            line += f"; {looped} inside loops, counted once"
        lines.append(line)
    return "\n".join(lines)


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def shape_bytes(shape: str) -> int:
    """Bytes of an HLO shape: `f32[256,784]{1,0}` -> 802816; a tuple sums its arrays."""
    total = 0
    for dtype, dims in _ARRAY.findall(shape):
        if dtype not in _DTYPE_BITS:
            raise ValueError(f"collectives: unknown HLO element type {dtype!r} in {shape!r}; "
                             f"add its size to runtime/collectives.py _DTYPE_BITS")
        elements = 1
        for dim in filter(None, dims.split(",")):
            elements *= int(dim.strip().lstrip("<="))   # `<=8`: a bounded dynamic dimension
        total += -(-elements * _DTYPE_BITS[dtype] // 8)
    return total


# ---- reading HLO text ----------------------------------------------------------------------
def _hlo_text(compiled) -> str:
    if isinstance(compiled, str):
        return compiled
    if not hasattr(compiled, "as_text") or hasattr(compiled, "compile"):
        compiled = compiled.compile()   # a Lowered's text is StableHLO, before partitioning
    return compiled.as_text()


def _parse(text: str) -> dict:
    """computation name -> [(instruction, shape, opcode, operand names, attributes)]."""
    computations, current = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith("{"):
            head = line.split()[1] if line.startswith("ENTRY") else line.split()[0]
            current = computations.setdefault(head.lstrip("%"), [])
            continue
        match = _INSTRUCTION.match(line)
        if current is None or match is None:
            continue
        name, rest = match.groups()
        shape, rest = _take_shape(_COMMENT.sub("", rest))
        opcode, _, rest = rest.strip().partition("(")
        inside, attributes = _take_balanced("(" + rest)
        operands = [o.split()[-1].lstrip("%") for o in _split_top(inside) if o.strip()]
        current.append((name, shape, opcode.strip(), operands, attributes))
    return computations


def _take_shape(text: str) -> tuple[str, str]:
    text = text.strip()
    if text.startswith("("):
        inside, rest = _take_balanced(text)
        return "(" + inside + ")", rest
    shape, _, rest = text.partition(" ")
    return shape, rest


def _take_balanced(text: str) -> tuple[str, str]:
    """`(a, (b)), rest` -> (`a, (b)`, `, rest`): the first bracketed group's inside, and after."""
    depth = 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0:
            return text[1:i], text[i + 1:]
    raise ValueError(f"collectives: unbalanced brackets in HLO text {text[:200]!r}")


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _attribute(attributes: str, key: str) -> str | None:
    for part in _split_top(attributes):
        name, sep, value = part.strip().partition("=")
        if sep and name == key:
            return value.strip()
    return None


def _loop_computations(computations: dict) -> set:
    """Computations run by a while loop: its bodies and conditions, and all they call."""
    calls = {name: set() for name in computations}
    looped = set()
    for name, body in computations.items():
        for _, _, opcode, _, attributes in body:
            for called in _CALLED.findall(attributes):
                targets = {t.strip().lstrip("%") for t in called.strip("{}").split(",")}
                calls[name] |= targets
                if opcode == "while":
                    looped |= targets
    pending = list(looped)
    while pending:
        for called in calls.get(pending.pop(), ()):
            if called not in looped:
                looped.add(called)
                pending.append(called)
    return looped
