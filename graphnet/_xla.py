"""The XLA compile options graphnet compiles with, and `jit`, which applies them.

On the CPU backend, one option matters: which operations XLA-CPU hands to its YNNPACK
library (`xla_cpu_experimental_ynn_fusion_type`). Two of the library's fusions compute wrong
values (jax 0.10.2), silently: the reduce fusion, part of XLA's own default set, when it takes
in a batched matmul with a broadcast or iota operand (`bmm(x, w.expand(3, 2, 40)).sum(1)`
compiled gave garbage up to 1e22, a softmax over such a product was 0.9 off), and the dot
fusion, when it takes in a matmul's broadcast operand (`a @ full((2, 4), 1.5)` on 9 rows; a
compiled conv with a constant filter passed back half its input gradient). Both read an array
XLA made inside the fusion by repeating a smaller one.

So a static program compiles with `checked`: matmuls one by one and reductions in the
library (dot_reduce_fusion's options: ResNet-18's training step 8% faster than with
`library_dots`), and the compiled program is read before it first runs (graphnet/_xla_check.py
`risky_fusions`): where one of its library fusions has such a repeated array reaching a
matmul, a convolution or a reduction, the program is compiled again with FALLBACK,
`library_dots` (matmuls one by one, nothing else). Eager kernels, which are not read, take
`library_dots`. The other sets stay selectable for measuring (`python -m
graphnet.runtime.fusion_bench`, docs/performance.md). `graphnet.backends.cpu_library_fusion(...)`
or env GRAPHNET_XLA_CPU_OPTIONS=<name> force one set for everything compiled afterwards.

Everything graphnet compiles goes through `jit` (static programs, plan kernels, dynamic
mode's per-op kernels, the conv autotuner's candidates, so a candidate is timed with the
options the program gets); JAX's persistent compilation cache keys carry the options."""

from __future__ import annotations

import os

import jax

from . import _xla_check

_FUSION = "xla_cpu_experimental_ynn_fusion_type"
# name -> compile options on the CPU backend (None: XLA's own defaults)
OPTION_SETS = {
    # NOTE: INDIVIDUAL_DOT, not DOT: with DOT, XLA fuses a matmul's broadcast operand into
    # the YNNPACK call, which reads it wrongly; and no REDUCE (XLA's default has it), which
    # takes in a batched matmul with a broadcast or iota operand and reads that wrongly
    # (`checked` has it, and reads each program for that)
    "library_dots": {_FUSION: "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"},
    "xla_default": None,
    "dot_reduce_fusion": {_FUSION: "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,"
                                   "LIBRARY_FUSION_TYPE_REDUCE"},
    "no_library_fusion": {_FUSION: ""},
}
# A static program compiled with `checked` gets dot_reduce_fusion's options, and its compiled
# form is read (graphnet/_xla_check.py): where a library fusion holds a form known to compute
# wrong values, the program is compiled again with FALLBACK. Eager kernels, which are not
# read, take FALLBACK.
OPTION_SETS["checked"] = OPTION_SETS["dot_reduce_fusion"]
FALLBACK = "library_dots"
# the sets whose fusions compute right: the whole-step refinement (runtime/refine.py) tries
# only these, and ignores a cached choice of another
SAFE_SETS = ("checked", "library_dots", "no_library_fusion")
DEFAULT = "checked"                  # programs without a convolution
CONV_DEFAULT = "checked"             # programs with one
CONV_OPS = frozenset({"conv", "conv_transpose"})   # ops lowered to XLA convolutions
_chosen: str | None = None   # set by choose(); None: env GRAPHNET_XLA_CPU_OPTIONS, else the rule


def choose(name: str | None) -> None:
    """Compile later programs with option set `name` (None: back to env, else the rule)."""
    global _chosen
    if name is not None and name not in OPTION_SETS:
        raise ValueError(f"unknown XLA CPU option set {name!r}; choose one of "
                         f"{', '.join(OPTION_SETS)}")
    _chosen = name


def forced() -> bool:
    """Whether the user chose an option set (choose(), or env GRAPHNET_XLA_CPU_OPTIONS)."""
    return _chosen is not None or bool(os.environ.get("GRAPHNET_XLA_CPU_OPTIONS", "").strip())


def current(has_conv: bool = False) -> str:
    """The option set a program compiled now gets (`has_conv`: it contains a convolution)."""
    if _chosen is not None:
        return _chosen
    name = os.environ.get("GRAPHNET_XLA_CPU_OPTIONS", "").strip()
    if name and name not in OPTION_SETS:
        raise ValueError(f"GRAPHNET_XLA_CPU_OPTIONS={name!r} is not one of "
                         f"{', '.join(OPTION_SETS)}")
    return name or (CONV_DEFAULT if has_conv else DEFAULT)


# Static programs, on every backend: a bfloat16/float16 value is rounded to its dtype wherever
# the program makes one, as eager mode's one-op kernels round it at their outputs. XLA's
# default lets a fused program keep float32 between such ops, so `(x.bfloat16() * 3).float()`
# compiled gave 9.421875 for 3.14159 where eager mode and PyTorch give 9.4375 (float32
# programs are unaffected). Not for eager kernels: JAX refuses compile options on a jit
# nested in another trace, which is how `create_graph` and autograd.functional call them.
EXACT_PRECISION = {"xla_allow_excess_precision": False}


def compiler_options(has_conv: bool = False, program: bool = False) -> dict | None:
    """The options for code compiled now on the default backend (None: XLA's own);
    `program`: a whole static program (EXACT_PRECISION)."""
    name = current(has_conv)
    if name == "checked" and not program:
        name = FALLBACK
    options = dict(OPTION_SETS[name] or {}) if jax.default_backend() == "cpu" else {}
    if program:
        options.update(EXACT_PRECISION)
    return options or None


def jit(fn, has_conv: bool = False, program: bool = False, **kwargs):
    """`jax.jit(fn, **kwargs)` with graphnet's compile options for the current backend;
    `has_conv`: the program contains a convolution (see the module's docstring); `program`:
    a whole static program, not an eager kernel."""
    named = kwargs.pop("option_set", False)    # False: the rule's; None: XLA's defaults
    options = compiler_options(has_conv, program) if named is False else \
        options_named(named)["compiler_options"]
    if program and "in_shardings" not in kwargs and jax.device_count() == 1:
        # every input placed on the one device: jit keys its executables by the inputs'
        # commitment, and a first call's inputs (a fresh `.grad` buffer, parameters made by a
        # factory) are uncommitted where the next call's, the program's outputs, are
        # committed; XLA compiled the whole step again on the second call
        kwargs["in_shardings"] = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    if "compiler_options" in kwargs or (options is None and (
            program or jax.default_backend() != "cpu")):
        return jax.jit(fn, **kwargs)
    top = jax.jit(fn, compiler_options=options, **kwargs) if options else jax.jit(fn, **kwargs)
    if program:
        checked = (current(has_conv) if named is False else named) == "checked" and \
            jax.default_backend() == "cpu"
        if not checked:
            return top
        safe = jax.jit(fn, compiler_options={**OPTION_SETS[FALLBACK], **EXACT_PRECISION},
                       **kwargs)
        # NOTE: one device only: the executable is called directly, and over several
        # devices an argument's placement may differ between calls
        if jax.device_count() == 1 and \
                not ({"static_argnums", "static_argnames"} & set(kwargs)):
            return CheckedProgram(top, safe)
        return safe    # not read: compiled without the reduce fusion
    high = {**(options or {}), _FUSION: _without_reduce((options or {}).get(_FUSION))}
    # NOTE: without options the nested calls take `top` itself: a second jax.jit of the same
    # function shares its executables, and the eager cache counted them twice
    return _KernelJit(top, jax.jit(fn, **kwargs) if options else top,
                      lambda: jax.jit(fn, compiler_options=high, **kwargs))


# NOTE: YNNPACK's reduce fusion crashed XLA-CPU (SIGSEGV, jax 0.10.2) on a reduction of rank 7
# fed by a broadcast product: the backward of RAFT's convex upsampling, `mask * flow` on
# [N, 1, 9, 8, 8, H, W] x [N, 2, 9, 1, 1, H, W], killed an eager training step. An eager
# kernel called with an array of that rank is compiled without that fusion.
HIGH_RANK = 7


def _without_reduce(kinds: str | None) -> str:
    if kinds is None:      # XLA's default set: its matmuls only (each on its own, as above)
        return "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"
    return ",".join(k for k in kinds.split(",") if k and "REDUCE" not in k)


class _KernelJit:
    """An eager kernel compiled with options (a convolution's, on the CPU), and the same
    kernel without them for calls inside another trace: JAX refuses compile options on a
    nested jit, and eager kernels run nested when autograd records a backward
    (`create_graph=True`, `autograd.functional.jvp`) or reads one's dependencies. Before,
    a double backward through an eager conv2d raised JAX's ValueError."""

    def __init__(self, top, nested, make_high):
        self.top, self.nested, self.make_high, self.high = top, nested, make_high, None

    def __call__(self, *args, **kwargs):
        high = False
        for a in jax.tree_util.tree_leaves((args, kwargs)) if kwargs or any(
                isinstance(a, (list, tuple)) for a in args) else args:
            if isinstance(a, jax.core.Tracer):
                return self.nested(*args, **kwargs)
            high = high or getattr(a, "ndim", 0) >= HIGH_RANK
        if high:
            if self.high is None:
                self.high = self.make_high()
            return self.high(*args, **kwargs)
        return self.top(*args, **kwargs)

    def _jits(self) -> list:
        """Each distinct jitted function once (`nested` may be `top` itself)."""
        return list({id(j): j for j in (self.top, self.nested, self.high)
                     if j is not None}.values())

    def _cache_size(self) -> int:
        return sum(j._cache_size() for j in self._jits())

    def clear_cache(self) -> None:
        for jitted in self._jits():
            jitted.clear_cache()

    def __getattr__(self, name):    # lower, trace, eval_shape ... : the top-level one's
        return getattr(self.top, name)


def options_named(name: str | None) -> dict:
    """`compiler_options` for a static program with option set `name` (XLA's defaults but
    for EXACT_PRECISION when it names none, or off the CPU). Give `jit` the name instead
    (`option_set=name`): a program of the `checked` set is read before it runs."""
    options = OPTION_SETS.get(name) if name and jax.default_backend() == "cpu" else None
    return {"compiler_options": {**(options or {}), **EXACT_PRECISION}}


def explained(jitted, name: str | None) -> dict:
    """For explain() and the plan dump: the option set a static program's last executable
    was compiled with (`xla_options`) and the risky library fusions that made a `checked`
    one fall back (`xla_risky_fusions`); `jitted` as `jit` made it (or a PairedJit of it),
    `name` the set it was asked for."""
    inner = getattr(jitted, "jitted", jitted)
    if isinstance(inner, CheckedProgram) and inner.chosen == FALLBACK:
        return {"xla_options": FALLBACK, "xla_risky_fusions": list(inner.risky)}
    return {"xla_options": name, "xla_risky_fusions": []}


def compile_lowered(lowered, name: str | None):
    """(executable, the set it was compiled with): `lowered` compiled with option set
    `name`; with `checked`, compiled again with FALLBACK where a library fusion is risky."""
    compiled = lowered.compile(options_named(name)["compiler_options"])
    if name == "checked" and jax.default_backend() == "cpu" and \
            _xla_check.risky_fusions(compiled.as_text()):
        return lowered.compile(options_named(FALLBACK)["compiler_options"]), FALLBACK
    return compiled, name


class CheckedProgram:
    """A static program jitted with the `checked` set (`fast`) and with FALLBACK (`safe`).
    Each argument signature's program is compiled with `fast`'s options and read; where a
    library fusion of it may compute wrong values (graphnet/_xla_check.py) it is compiled with
    `safe`'s instead. Calls go straight to the chosen executable; `lower` gives the chosen
    jit's lowering (dumps show the program that runs)."""

    def __init__(self, fast, safe):
        self.fast, self.safe = fast, safe
        self.executables = {}    # argument signature -> (executable, the jit it came from)
        self.last = None         # the executable of the last call's signature
        self.risky: list = []    # the risky fusions of the last program compiled again

    def _choose(self, args, kwargs):
        key = tuple((getattr(a, "shape", None), str(getattr(a, "dtype", type(a))),
                     getattr(a, "weak_type", None))
                    for a in jax.tree_util.tree_leaves((args, kwargs)))
        found = self.executables.get(key)
        if found is None:
            compiled = self.fast.lower(*args, **kwargs).compile()
            risky = _xla_check.risky_fusions(compiled.as_text())
            found = (compiled, self.fast)
            if risky:
                self.risky = risky
                found = (self.safe.lower(*args, **kwargs).compile(), self.safe)
            self.executables[key] = found
        return found

    def __call__(self, *args, **kwargs):
        if self.last is not None and not kwargs:
            try:
                return self.last(*args)
            except TypeError:    # other shapes or dtypes than the last call's: found below
                pass
        self.last = self._choose(args, kwargs)[0]
        return self.last(*args, **kwargs)

    @property
    def chosen(self) -> str:
        """The option set the last signature's program was compiled with."""
        if self.last is None:
            return "checked"
        return next("checked" if jitted is self.fast else FALLBACK
                    for executable, jitted in self.executables.values()
                    if executable is self.last)

    def lower(self, *args, **kwargs):
        return self._choose(args, kwargs)[1].lower(*args, **kwargs)

    def _cache_size(self) -> int:
        return len(self.executables)

    def clear_cache(self) -> None:
        self.executables, self.last = {}, None
        self.fast.clear_cache()
        self.safe.clear_cache()

    def __getattr__(self, name):    # trace, eval_shape ...: the fast jit's
        return getattr(self.fast, name)


def graph_has_conv(graph) -> bool:
    """Whether a graph (sub-graphs included) has a node lowered to an XLA convolution."""
    return any(node.op in CONV_OPS or any(graph_has_conv(g) for _, g in node.subgraphs())
               for node in graph.nodes)
