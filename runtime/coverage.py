"""How much of PyTorch's public API graphnet covers, measured against the installed torch.

    python -m graphnet.runtime.coverage [--out docs/coverage.md] [--check]

For each namespace (`torch`, `torch.Tensor`, `torch.nn`, `torch.nn.functional`, ...) it lists
PyTorch's public names and says for each one: implemented (the same name exists in graphnet's
matching namespace), refused on purpose (`REFUSED`, runtime/coverage_refused.py: a reason and
what to use instead), or missing. An implemented name is paired with a test: ops through the
op table (`graphnet._ops.OPS`) and tests/op_parity_cases.py, everything else with the first
test file that calls it. `--check` regenerates the document in memory and exits 1 if the
file on disk differs, so CI catches a stale docs/coverage.md.

torch is imported here only, to read its names; graphnet itself never imports torch."""

from __future__ import annotations

import argparse
import fnmatch
import importlib
import importlib.util
import inspect
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from .coverage_refused import REFUSED   # the names refused on purpose, with their reasons

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "coverage.md"
TESTS = ROOT / "tests"

@dataclass(frozen=True)
class Namespace:
    torch_path: str      # "torch.nn.functional"
    graphnet_path: str   # "graphnet.nn.functional"
    kind: str            # what to list: "functions", "methods", "modules", "optimizers", ...


NAMESPACES = (
    Namespace("torch", "graphnet", "functions"),
    Namespace("torch.Tensor", "graphnet.Tensor", "methods"),
    Namespace("torch.nn", "graphnet.nn", "modules"),
    Namespace("torch.nn.functional", "graphnet.nn.functional", "functions"),
    Namespace("torch.nn.init", "graphnet.nn.init", "public"),
    Namespace("torch.fft", "graphnet.fft", "functions"),
    Namespace("torch.linalg", "graphnet.linalg", "functions"),
    Namespace("torch.special", "graphnet.special", "functions"),
    Namespace("torch.masked", "graphnet.masked", "functions"),
    Namespace("torch.func", "graphnet.func", "functions"),
    Namespace("torch.nn.utils", "graphnet.nn.utils", "public"),
    Namespace("torch.nn.utils.rnn", "graphnet.nn.utils.rnn", "public"),
    Namespace("torch.nn.utils.parametrizations", "graphnet.nn.utils.parametrizations", "public"),
    Namespace("torch.optim", "graphnet.optim", "optimizers"),
    Namespace("torch.optim.lr_scheduler", "graphnet.optim.lr_scheduler", "schedulers"),
    Namespace("torch.autograd", "graphnet.autograd", "public"),
    Namespace("torch.autograd.graph", "graphnet.autograd.graph", "public"),
    Namespace("torch.utils.data", "graphnet.utils.data", "public"),
    Namespace("torch.utils.checkpoint", "graphnet.utils.checkpoint", "public"),
    Namespace("torch.compiler", "graphnet.compiler", "public"),
)


def _resolve(path: str):
    """The module or class at a dotted path, or None where graphnet has no such namespace."""
    head, _, attr = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        pass
    try:
        return getattr(importlib.import_module(head), attr)
    except (ImportError, AttributeError):
        return None


def _is_routine(value) -> bool:
    return inspect.isroutine(value) and not isinstance(value, type)


def torch_names(ns: Namespace) -> list[str]:
    """PyTorch's public names in one namespace, sorted."""
    import torch

    obj = _resolve(ns.torch_path)
    public = [n for n in dir(obj) if not n.startswith("_")]
    if ns.kind == "methods":   # dunders are skipped by the `_` test above
        picked = [n for n in public if _is_routine(getattr(obj, n, None))]
    elif ns.kind == "functions":
        picked = [n for n in public if _is_routine(getattr(obj, n))]
    elif ns.kind == "modules":
        picked = [n for n in public if _subclass(getattr(obj, n), torch.nn.Module)]
    elif ns.kind == "optimizers":
        picked = [n for n in public if _subclass(getattr(obj, n), torch.optim.Optimizer)]
    elif ns.kind == "schedulers":
        base = torch.optim.lr_scheduler.LRScheduler
        picked = [n for n in public if _subclass(getattr(obj, n), base)]
    else:   # "public": the module's __all__ (or its own functions and classes), no submodules
        names = [n for n in getattr(obj, "__all__", public) if not n.startswith("_")]
        picked = [n for n in names if not isinstance(getattr(obj, n, None), types.ModuleType)
                  and (callable(getattr(obj, n, None)))]
    return sorted(set(picked))


def _subclass(value, base) -> bool:
    return isinstance(value, type) and issubclass(value, base)


def refusal(qualified: str) -> tuple[str, str] | None:
    for pattern, why in REFUSED.items():
        if fnmatch.fnmatchcase(qualified, pattern):
            return why
    return None


class TestIndex:
    """Which test covers a graphnet name: the op table's parity cases first, else the first
    test file (sorted by path) whose text calls the name."""

    def __init__(self, tests: Path = TESTS):
        files = sorted(p for p in tests.rglob("*.py") if p.name != "test_coverage_doc.py")
        self.texts = [(p.relative_to(tests.parent).as_posix(), p.read_text()) for p in files]
        self.op_tests = _op_tests(tests)

    def for_name(self, ns: Namespace, name: str) -> str:
        rel = ns.graphnet_path.removeprefix("graphnet").lstrip(".")
        key = f"{rel}.{name}" if rel else name
        if key in self.op_tests:
            return self.op_tests[key]
        call = re.compile(rf"(?<![\w]){re.escape(name)}\(" if ns.kind in ("modules",
                          "optimizers", "schedulers") else rf"\.{re.escape(name)}\(")
        for path, text in self.texts:
            if name + "(" in text and call.search(text):
                return path
        # NOTE: parametrized tests name what they test as a string: ("celu", {...})
        for path, text in self.texts:
            if f'"{name}"' in text or f"'{name}'" in text:
                return path
        return ""


def _op_tests(tests: Path) -> dict[str, str]:
    """'nn.functional.relu' / 'Tensor.exp' -> the test file running that op's parity case."""
    from graphnet._ops import OPS

    cases_file = tests / "op_parity_cases.py"
    if not cases_file.exists():
        return {}
    spec = importlib.util.spec_from_file_location("_coverage_op_cases", cases_file)
    cases = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = cases   # NOTE: its dataclasses look their module up there
    sys.path.insert(0, str(tests))   # it imports op_case_kit and its family files by name
    try:
        spec.loader.exec_module(cases)
    finally:
        del sys.modules[spec.name]
        sys.path.remove(str(tests))
    found = {}
    for op_name, op in OPS.items():
        if op_name in cases.CASES:
            where = "tests/test_op_parity.py"
        elif op_name in cases.ELSEWHERE:
            where = cases.ELSEWHERE[op_name][1]
        else:
            continue
        for fn in op.functions:
            found.setdefault(fn, where)
        for method in (*op.methods, *op.inplace):
            found.setdefault(f"Tensor.{method}", where)
    return found


@dataclass(frozen=True)
class Row:
    name: str
    status: str   # "implemented" / "refused" / "missing"
    detail: str   # the test file, or "reason; use alternative"


def classify(ns: Namespace, index: TestIndex) -> list[Row]:
    ours = _resolve(ns.graphnet_path)
    rows = []
    for name in torch_names(ns):
        why = refusal(f"{ns.torch_path}.{name}")
        present = ours is not None and hasattr(ours, name)
        if present and getattr(getattr(ours, name), "_graphnet_refusal", False) and why:
            rows.append(Row(name, "refused", f"{why[0]}; use {why[1]}"))
        elif present:
            rows.append(Row(name, "implemented", index.for_name(ns, name)))
        elif why:
            rows.append(Row(name, "refused", f"{why[0]}; use {why[1]}"))
        else:
            rows.append(Row(name, "missing", ""))
    return rows


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _absent_note(ns: Namespace, rows: list[Row]) -> str:
    """For a namespace graphnet does not have: which of its names graphnet has elsewhere
    (counted as missing all the same, since `import graphnet.autograd` fails)."""
    import graphnet

    elsewhere = [f"`graphnet.{r.name}`" for r in rows if hasattr(graphnet, r.name)]
    note = f"graphnet has no `{ns.graphnet_path}` namespace, so every name counts as missing."
    if elsewhere:
        note += " Top-level graphnet has " + ", ".join(elsewhere) + "."
    return note


def render(results: dict[Namespace, list[Row]]) -> str:
    import torch

    version = torch.__version__.split("+")[0]
    out = ["# PyTorch API coverage", "",
           f"Generated by `python -m graphnet.runtime.coverage` against torch {version}; "
           "do not edit by hand (`--check` fails in CI when it is stale).", "",
           "Implemented: the same name exists in graphnet's matching namespace. Its test is the "
           "op's parity case (tests/op_parity_cases.py) where the op table has one, else the "
           "first test file that calls the name or names it as a string. Refused: on purpose, "
           "see `REFUSED` in runtime/coverage_refused.py.", "",
           "| namespace | names | implemented | refused | missing | implemented % |",
           "|---|---:|---:|---:|---:|---:|"]
    for ns, rows in results.items():
        count = {s: sum(r.status == s for r in rows) for s in ("implemented", "refused", "missing")}
        out.append(f"| `{ns.torch_path}` | {len(rows)} | {count['implemented']} | "
                   f"{count['refused']} | {count['missing']} | "
                   f"{_pct(count['implemented'], len(rows))} |")
    for ns, rows in results.items():
        out += ["", f"## `{ns.torch_path}` -> `{ns.graphnet_path}`"]
        if _resolve(ns.graphnet_path) is None:
            out += ["", _absent_note(ns, rows)]
        done = [r for r in rows if r.status == "implemented"]
        refused = [r for r in rows if r.status == "refused"]
        missing = [r for r in rows if r.status == "missing"]
        out += ["", f"### Implemented ({len(done)})", ""]
        if done:
            out += ["| name | test |", "|---|---|"]
            out += [f"| `{r.name}` | {f'`{r.detail}`' if r.detail else 'no test found'} |"
                    for r in done]
        out += ["", f"### Refused ({len(refused)})", ""]
        if refused:
            out += ["| name | reason |", "|---|---|"]
            out += [f"| `{r.name}` | {r.detail} |" for r in refused]
        out += ["", f"### Missing ({len(missing)})", ""]
        if missing:
            out.append(", ".join(f"`{r.name}`" for r in missing))
    return "\n".join(out) + "\n"


def generate(tests: Path = TESTS) -> str:
    """The whole document, as text; deterministic for a given torch and graphnet."""
    index = TestIndex(tests)
    return render({ns: classify(ns, index) for ns in NAMESPACES})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphnet.runtime.coverage",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DOC, help="the markdown file to write")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        if not args.out.exists() or args.out.read_text() != text:
            print(f"{args.out} is out of date: run python -m graphnet.runtime.coverage "
                  f"--out {args.out}", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
