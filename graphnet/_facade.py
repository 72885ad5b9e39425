"""`graphnet.compile` and `graphnet.trace_graph`: thin entry points that import the compiler
and runtime only when called, so `import graphnet` stays light and acyclic. (`graphnet.trace`
is PyTorch's matrix trace, as `torch.trace` is.)"""

from __future__ import annotations


def trace_graph(fn, *example_inputs, **kwargs):
    """Trace `fn` (a Module or function) on `example_inputs` into a graphnet `Graph`.

    >>> graph = graphnet.trace_graph(model, graphnet.randn(2, 784)); print(graph)
    """
    from graphnet.compiler import trace as _trace

    return _trace(fn, *example_inputs, **kwargs)


def compile(fn=None, **options):
    """Compile `fn` (a Module or a function, e.g. a whole training step) to one XLA program.

    The first call traces it into graphnet's IR, runs the optimisation passes, lowers the
    graph to one JAX function and jits it; later calls with the same input shapes/dtypes and
    train/eval flags reuse it. Usable as `@graphnet.compile` or `graphnet.compile(fn, ...)`.
    Arguments may be passed by keyword; tensors become graph inputs wherever they are, other
    values are baked into the graph and keyed (a new value compiles a new graph).

    Options: `mode="static"|"plan"|"dynamic"`; `passes=[...]` / `disable=[...]` (pass names,
    see `compiler.passes.PIPELINE`); `cache_size=8` (graphs before falling back to dynamic);
    `donate=True` (let XLA update written state in place); `hoist=True` (an inference graph
    computes its state-only work, such as folded BatchNorm weights, once per parameter
    version instead of every call); `checks=True` (out-of-range class labels and indices
    raise PyTorch's errors, as they do eagerly; `False` compiles no checks, see
    docs/architecture.md, "Checked programs"); `debug=True` (verify the IR after every pass).

    `torch.compile`'s own arguments are read as PyTorch scripts mean them: `disable=True`
    returns `fn` itself (a list still names passes); `mode="default"`, `"lite"`,
    `"reduce-overhead"`, `"max-autotune"` and `"max-autotune-no-cudagraphs"` compile static
    programs (another mode, or a mode with `options`, raises PyTorch's RuntimeError);
    `backend="inductor"` (or `"cudagraphs"`) compiles, `"eager"` / `"aot_eager"` run eagerly
    (mode "dynamic"), another backend is refused (`graphnet.compiler.set_default_backend`
    changes the default, `set_stance` how every compiled function runs now); `fullgraph`
    changes nothing (a static program is always the whole function, or a TraceError names what
    stops it); `dynamic` changes nothing either (one program per input shape, at most
    `cache_size`, which `recompile_limit` sets, and by default
    `graphnet._dynamo.config.recompile_limit`, alias `cache_size_limit`, 8); `options`
    (Inductor's knobs), `isolate_recompiles` and `shapes_spec` are accepted and not read. A
    compiled function or module pickles as what it compiled and its settings (loading
    compiles it again).

    >>> step = graphnet.compile(model, disable=["eval_mode_rewrites"])
    """
    from graphnet.runtime import compile as _compile

    if options.get("disable") is True:
        return (lambda f: f) if fn is None else fn
    options = _torch_options(options)
    if fn is not None and not callable(fn):   # torch's words; refused now, not at the call
        raise AssertionError(f"A callable function is expected, but {type(fn)} is provided.")
    if fn is None:
        return lambda f: _compile(f, **options)
    return _compile(fn, **options)


_TORCH_MODES = ("default", "lite", "reduce-overhead", "max-autotune",
                "max-autotune-no-cudagraphs")
_OWN_MODES = ("static", "plan", "dynamic")   # graphnet's (runtime/compiled.py MODES)


def _torch_options(options: dict) -> dict:
    """`options` with torch.compile's own arguments translated (see `compile`)."""
    options = dict(options)
    if options.get("mode") is not None and options.get("options") is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    mode = options.get("mode")
    if mode is not None and mode not in _TORCH_MODES + _OWN_MODES:   # torch's words, and ours
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(_TORCH_MODES + _OWN_MODES)}")
    for name in ("fullgraph", "dynamic", "options", "isolate_recompiles", "shapes_spec"):
        options.pop(name, None)
    if options.get("recompile_limit") is not None:
        options.setdefault("cache_size", options["recompile_limit"])
    options.pop("recompile_limit", None)
    from . import _dynamo

    options.setdefault("cache_size", _dynamo.config.recompile_limit)
    if options.get("disable") is False:
        del options["disable"]
    if options.get("mode") is None or options.get("mode") in _TORCH_MODES:
        options.pop("mode", None)
    from graphnet.runtime import stance   # the backends, and set_default_backend's

    backend = stance.check_backend(options.pop("backend", None) or stance.get_default_backend())
    if stance.BACKENDS[backend] == "dynamic":
        options.setdefault("mode", "dynamic")
    return options
