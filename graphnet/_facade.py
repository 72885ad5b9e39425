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

    >>> step = graphnet.compile(model, disable=["eval_mode_rewrites"])
    """
    from graphnet.runtime import compile as _compile

    if fn is None:
        return lambda f: _compile(f, **options)
    return _compile(fn, **options)
