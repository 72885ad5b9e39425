"""How much of PyTorch's public API graphnet covers, measured against the installed torch.

    python -m graphnet.runtime.coverage [--out docs/coverage.md] [--check]

For each namespace (`torch`, `torch.Tensor`, `torch.nn`, `torch.nn.functional`, ...) it lists
PyTorch's public names and says for each one: implemented (the same name exists in graphnet's
matching namespace), refused on purpose (`REFUSED` below: a reason and what to use instead), or
missing. An implemented name is paired with a test: ops through the op table
(`graphnet._ops.OPS`) and tests/op_parity_cases.py, everything else with the first test file
that calls it. `--check` regenerates the document in memory and exits 1 if the file on disk
differs, so CI catches a stale docs/coverage.md.

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

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "coverage.md"
TESTS = ROOT / "tests"

_CUDA = ("CUDA/accelerator memory, streams and devices do not exist on the JAX CPU/XLA path",
         "`.to(device)` (accepted; XLA places arrays)")
_SPARSE = ("sparse layouts are not JAX arrays (jax.experimental.sparse is a separate type)",
           "dense tensors")
_QUANT = ("PyTorch's quantized tensor internals have no JAX counterpart", "float16/bfloat16 casts")
_STORAGE = ("storages, pointers and shared memory: JAX arrays are immutable buffers owned by XLA",
            "`.clone()`, `.numpy()`")
_MKLDNN = ("oneDNN layout helpers; XLA chooses layouts itself", "plain tensors")
_SCRIPT = ("TorchScript plumbing, not a tensor function", "the function it dispatches to, or "
           "graphnet.compile")
_DATAPIPE = ("DataPipes are PyTorch's deprecated torchdata API", "Dataset and DataLoader")
_PARALLEL = ("multi-process/multi-device wrappers; graphnet runs one process on one device",
             "a single module")

_COMPLEX = ("graphnet has no complex dtypes (a TypeError says so)",
            "real and imaginary parts as two real tensors, or a trailing dim of size 2")
_ATEN = ("ATen's internal kernel entry points, not a user API",
         "the torch.nn.functional / torch.nn form")
_AUTOCAST = ("autocast's per-device variants for devices graphnet does not run on (ipu, xla, "
             "hpu ...) and the deprecated per-device spellings",
             "`graphnet.autocast('cpu', ...)` and `get_autocast_dtype('cpu')`")
_SYMBOLIC = ("symbolic-shape helpers of torch.compile's tracer", "graphnet.compile")
_FP8 = ("fp8/grouped GPU matmul kernels", "`matmul` on float16/bfloat16 tensors")
_OVERRIDES = ("the __torch_function__ override protocol, which graphnet tensors do not use",
              "plain functions")
_LEGACY_RNN = ("ATen's flat-weight RNN kernels", "nn.LSTM / nn.GRU / nn.RNN and their cells")
_CAPTURE = ("PyTorch's own graph capture and operator registry (FX graphs, ExportedProgram, "
            "torch.library/torch.ops)", "graphnet.compile, its graph dumps and "
            "autograd.Function")
_PROFILER = ("PyTorch's profiler times ATen's kernels; graphnet's run inside XLA",
             "jax.profiler.trace(log_dir) and compiled.explain()")
_PROCESSES = ("PyTorch's process spawning and shared-memory tensors",
              "graphnet.distributed (jax.distributed) for several processes")
_NO_RECOMPUTE = ("graphnet does not recompute checkpointed segments (XLA rematerialises)",
                 "graphnet.utils.checkpoint.checkpoint")
_SAVED = ("graphnet's tape saves immutable arrays; a write after the forward is refused as in "
          "PyTorch's default mode", "clone() before writing")
_EDGES = ("gradient edges as autograd.grad inputs", "the tensor itself as autograd.grad's input")
_CACHE = ("graphnet's compiled programs are cached on disk by themselves",
          "GRAPHNET_COMPILE_CACHE=dir (see README)")
_SPARSE_GRAD = ("graphnet has no sparse gradients (every gradient is dense)",
                "optim.Adam on the dense gradients")

# Names that cannot make sense on JAX. Keys are fnmatch patterns on the qualified torch name;
# values are (reason, alternative). The first matching pattern wins; an implemented name is
# reported as implemented even if a pattern matches it.
REFUSED: dict[str, tuple[str, str]] = {
    "torch.Tensor.record_stream": _CUDA, "torch.Tensor.xpu": _CUDA, "torch.Tensor.ipu": _CUDA,
    "torch.Tensor.mtia": _CUDA,
    "torch.Tensor.is_coalesced": _SPARSE, "torch.Tensor.coalesce": _SPARSE,
    "torch.Tensor.*sparse*": _SPARSE, "torch.sparse_*": _SPARSE, "torch.resize_as_sparse_": _SPARSE,
    "torch.Tensor.*csr*": _SPARSE,
    "torch.Tensor.*csc*": _SPARSE, "torch.Tensor.*bsr*": _SPARSE, "torch.Tensor.*bsc*": _SPARSE,
    "torch.Tensor.crow_indices": _SPARSE, "torch.Tensor.col_indices": _SPARSE,
    "torch.Tensor.ccol_indices": _SPARSE, "torch.Tensor.row_indices": _SPARSE,
    "torch.Tensor.indices": _SPARSE, "torch.Tensor.values": _SPARSE,
    "torch.*quantize*": _QUANT, "torch.Tensor.q_*": _QUANT, "torch.q_*": _QUANT,
    "torch.Tensor.int_repr": _QUANT, "torch.int_repr": _QUANT, "torch.Tensor.qscheme": _QUANT,
    "torch.Tensor.*storage*": _STORAGE,
    "torch.Tensor.set_": _STORAGE, "torch.Tensor.storage_offset": _STORAGE,
    "torch.*mkldnn*": _MKLDNN, "torch.Tensor.*mkldnn*": _MKLDNN,
    "torch.nn.functional.boolean_dispatch": _SCRIPT,
    "torch.nn.functional.assert_int_or_pair": _SCRIPT,
    "torch.utils.data.*DataPipe*": _DATAPIPE, "torch.utils.data.DataChunk": _DATAPIPE,
    "torch.utils.data.functional_datapipe": _DATAPIPE,
    "torch.utils.data.guaranteed_datapipes_determinism": _DATAPIPE,
    "torch.utils.data.non_deterministic": _DATAPIPE,
    "torch.utils.data.runtime_validation*": _DATAPIPE,
    "torch.utils.data.argument_validation": _DATAPIPE,
    # issue 10: what stays refused after the families landed
    "torch.complex": _COMPLEX, "torch.polar": _COMPLEX, "torch.view_as_complex*": _COMPLEX,
    "torch.Tensor.cfloat": _COMPLEX, "torch.Tensor.cdouble": _COMPLEX,
    "torch.Tensor.chalf": _COMPLEX, "torch.stft": _COMPLEX, "torch.istft": _COMPLEX,
    "torch.Tensor.stft": _COMPLEX, "torch.Tensor.istft": _COMPLEX,
    "torch.cfloat": _COMPLEX, "torch.cdouble": _COMPLEX, "torch.chalf": _COMPLEX,
    "torch.complex32": _COMPLEX, "torch.complex64": _COMPLEX, "torch.complex128": _COMPLEX,
    "torch.fft.*": _COMPLEX,
    # torch's submodules graphnet does not provide (graphnet.sparse was a bare AttributeError)
    "torch.sparse": _SPARSE, "torch.quantization": _QUANT, "torch.ao": _QUANT,
    "torch.fx": _CAPTURE, "torch.export": _CAPTURE, "torch.library": _CAPTURE,
    "torch.ops": _CAPTURE, "torch.classes": _CAPTURE, "torch.cpp": _CAPTURE,
    "torch.package": _SCRIPT, "torch.futures": _SCRIPT, "torch.profiler": _PROFILER,
    "torch.multiprocessing": _PROCESSES, "torch.mps": _CUDA, "torch.xpu": _CUDA,
    "torch.mtia": _CUDA, "torch.overrides": _OVERRIDES, "torch.storage": _STORAGE,
    "torch.masked": ("masked tensors are a prototype tensor subclass",
                     "a boolean mask with `where` or `masked_fill`"),
    "torch.nested": ("nested (jagged) tensors have ragged dims; XLA programs have static shapes",
                     "padding (nn.utils.rnn.pad_sequence) and a mask"),
    "torch.hub": ("torch.hub downloads PyTorch code and checkpoints",
                  "graphnet.load / load_state_dict of a file you have"),
    "torch.signal": ("torch.signal.windows is not provided",
                     "graphnet.hann_window, hamming_window, blackman_window, kaiser_window"),
    "torch.quasirandom": ("SobolEngine's quasi-random sequences are not provided",
                          "graphnet.rand"),
    "torch.monitor": ("event counters of PyTorch's C++ runtime", "Python's logging"),
    "torch.cudnn_*": _ATEN, "torch.miopen_*": _ATEN, "torch.fbgemm_*": _ATEN,
    "torch.native_*": _ATEN, "torch.batch_norm_*": _ATEN, "torch.convolution": _ATEN,
    "torch.grid_sampler*": _ATEN, "torch.affine_grid_generator": _ATEN,
    "torch.cudnn_affine_grid_generator": _ATEN, "torch.embedding_renorm_": _ATEN,
    "torch.norm_except_dim": _ATEN, "torch.conv_tbc": _ATEN,
    "torch.nn.functional.conv_tbc": _ATEN, "torch.segment_reduce": _ATEN,
    "torch.*autocast*": _AUTOCAST, "torch.sym_*": _SYMBOLIC,
    "torch.nn.functional.*scaled_mm": _FP8, "torch.nn.functional.*grouped_mm": _FP8,
    "torch.nn.functional.*torch_function*": _OVERRIDES,
    "torch.lstm*": _LEGACY_RNN, "torch.gru*": _LEGACY_RNN, "torch.rnn_*": _LEGACY_RNN,
    "torch.optim.SparseAdam": _SPARSE_GRAD,
    "torch.*_indices_copy": _SPARSE, "torch.indices_copy": _SPARSE,
    "torch.values_copy": _SPARSE, "torch.*smm": _SPARSE, "torch.hspmm": _SPARSE,
    "torch.spmm": _SPARSE, "torch.sspaddmm": _SPARSE, "torch.saddmm": _SPARSE,
    "torch.Tensor.*smm": _SPARSE,
    "torch.Tensor.sspaddmm": _SPARSE, "torch.Tensor.dense_dim": _SPARSE,
    "torch.Tensor.to_padded_tensor": _SPARSE,
    "torch.frombuffer": _STORAGE, "torch.from_file": _STORAGE, "torch.is_storage": _STORAGE,
    "torch.Tensor.const_data_ptr": _STORAGE, "torch.Tensor.module_load": _STORAGE,
    "torch.Tensor.as_subclass": _STORAGE,
    "torch.import_ir_module*": _SCRIPT, "torch.parse_*": _SCRIPT,
    "torch.merge_type_from_type_comment": _SCRIPT, "torch.unify_type_list": _SCRIPT,
    "torch.fork": _SCRIPT, "torch.wait": _SCRIPT, "torch.get_file_path": _SCRIPT,
    "torch.classproperty": _SCRIPT, "torch.compiled_with_cxx11_abi": _SCRIPT,
    "torch.prepare_multiprocessing_environment": _PARALLEL, "torch.is_distributed": _PARALLEL,
    "torch.Tensor.is_distributed": _PARALLEL,
    "torch.is_vulkan_available": _CUDA, "torch.get_device_module": _CUDA,
    "torch.profiler_allow_cudagraph_cupti_lazy_reinit_cuda12": _CUDA,
    "torch.choose_qparams_optimized": _QUANT, "torch.fused_moving_avg_obs_fake_quant": _QUANT,
    "torch.utils.checkpoint.GraphExecGroup": _NO_RECOMPUTE,
    "torch.autograd.graph.allow_mutation_on_saved_tensors": _SAVED,
    "torch.autograd.graph.GradientEdge": _EDGES, "torch.autograd.graph.get_gradient_edge": _EDGES,
    "torch.autograd.graph.region_activation_memory_budget": _NO_RECOMPUTE,
    "torch.autograd.graph.set_*stream*": _CUDA,
    "torch.compiler.*cache_artifacts": _CACHE, "torch.compiler.load_compiled_function": _CACHE,
    "torch.compiler.set_enable_guard_collectives": _PARALLEL,
    "torch.compiler.wrap_numpy": ("NumPy code runs on the host; a compiled program is one XLA "
                                  "computation", "graphnet ops (NumPy's names mostly match)"),
}


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
           "see `REFUSED` in runtime/coverage.py.", "",
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
