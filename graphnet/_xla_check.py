"""Reading a compiled XLA-CPU program for the library fusions known to compute wrong values.

XLA-CPU hands parts of a program to its YNNPACK library as fusions (`__ynn_fusion`). Two
forms of them computed wrong values, silently (jax 0.10.2, graphnet/_xla.py): a matmul
whose operand is a broadcast (or an iota) made inside the fusion, and a reduction taking in
such a matmul. Both read an operand that XLA made inside the fusion by repeating a smaller
array. `risky_fusions` finds every library fusion in which an array made that way (a
`broadcast`, even of a scalar; an `iota`; a non-scalar constant) reaches a `dot`, a
`convolution` or a `reduce`, and every reduction of rank HIGH_RANK or more in a library
fusion (one crashed XLA-CPU); a program that has none computes as it would without the
library's fusions. Fusions of one matmul of parameters, which graphnet's own set makes, pass.
"""

from __future__ import annotations

import re

HIGH_RANK = 7
_SUSPECT = {"broadcast", "iota"}
_READERS = {"dot", "convolution", "reduce"}
_HEADER = re.compile(r"^(?:ENTRY\s+)?%([\w.\-]+)\s.*\{\s*$")
_ASSIGN = re.compile(r"^\s*(?:ROOT\s+)?%([\w.\-]+)\s*=\s*(.*)$")
_NAME = re.compile(r"%([\w.\-]+)")
_LIBRARY_CALL = re.compile(r"calls=%([\w.\-]+).*\"kind\":\"__ynn_fusion\"")


def _skip_type(text: str) -> str:
    """`text` after its leading HLO type (a shape, or a parenthesised tuple of shapes)."""
    if text.startswith("("):
        depth = 0
        for i, c in enumerate(text):
            depth += c == "("
            depth -= c == ")"
            if depth == 0:
                return text[i + 1:].lstrip()
    return text.split(None, 1)[1] if " " in text else ""


def _instruction(body: str):
    """(shape, opcode, operand names) of an instruction's right-hand side."""
    shape = body.split(None, 1)[0] if not body.startswith("(") else ""
    rest = _skip_type(body)
    match = re.match(r"([a-z][\w\-]*)\(", rest)
    if match is None:
        return shape, "", []
    depth, end = 0, len(rest)
    for i in range(match.end() - 1, len(rest)):
        depth += rest[i] == "("
        depth -= rest[i] == ")"
        if depth == 0:
            end = i
            break
    return shape, match.group(1), _NAME.findall(rest[match.end():end])


def _rank(shape: str) -> int:
    dims = re.search(r"\[([^\]]*)\]", shape)
    return len([d for d in dims.group(1).split(",") if d.strip()]) if dims else 0


def computations(hlo: str) -> dict:
    """computation name -> {instruction name: (shape, opcode, operand names)}."""
    found, current = {}, None
    for line in hlo.splitlines():
        header = _HEADER.match(line)
        if header and "=" not in line.split("{")[0]:
            current = found.setdefault(header.group(1), {})
        elif line.startswith("}"):
            current = None
        elif current is not None:
            assign = _ASSIGN.match(line)
            if assign:
                current[assign.group(1)] = _instruction(assign.group(2))
    return found


def _risky(instructions: dict) -> str | None:
    """Why a library fusion's body is risky, or None."""
    tainted = set()
    for name, (shape, opcode, operands) in instructions.items():   # HLO lists defs first
        if opcode == "reduce" and any(_rank(instructions[o][0]) >= HIGH_RANK
                                      for o in operands if o in instructions):
            return f"a reduction of rank {HIGH_RANK} or more ({name})"
        made = opcode in _SUSPECT or (opcode == "constant" and _rank(shape) > 0)
        if opcode in _READERS and any(o in tainted for o in operands):
            return f"{opcode} {name} reads an array the fusion repeats from a smaller one"
        if made or any(o in tainted for o in operands):
            tainted.add(name)
    return None


def risky_fusions(hlo: str) -> list:
    """Each library fusion of compiled HLO text that may compute wrong values, as
    'computation: why'."""
    risky = []
    # NOTE: only the library fusions' computations are parsed (ResNet-18's training step:
    # 888 computations, 1.2 MB of text, 90 ms to parse whole)
    for called in dict.fromkeys(_LIBRARY_CALL.findall(hlo)):
        start = hlo.find(f"\n%{called} ")
        body = hlo[start + 1:hlo.find("\n}", start) + 2] if start >= 0 else ""
        why = _risky(computations(body).get(called, {}))
        if why:
            risky.append(f"{called}: {why}")
    return risky
