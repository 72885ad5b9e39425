"""Dispatch modes: the protocol by which graphnet hands its op calls (and the few other
events a recorder must see) to whoever is recording them instead of running them.

With no mode installed, graphnet is eager: every op runs its kernel now and autograd records
a tape. A *mode* installed with `with push_mode(mode):` receives those calls instead; the
compiler's tracer (graphnet/compiler/tracer.py) is one, recording a graph. Every mode
subclasses `DispatchMode`, whose hooks default to what eager mode does, so a mode overrides
only what it changes. graphnet never imports the compiler: the tracer installs itself here.

The stack of modes is per thread (a trace in one thread never sees another thread's eager
ops); `push_mode` and `current_mode()` are the only ways to it. Call sites ask
`current_mode()` and, when a mode is installed, call its hook directly:

| hook                                | called by                           | returns              |
|-------------------------------------|-------------------------------------|----------------------|
| run_op(opdef, args, attrs)          | every op call (`dispatch`)          | the op's result      |
| on_tensor_created(t)                | an alias made (`.data`, `detach()`) | None                 |
| on_write(t)                         | `t` about to be written in place    | None                 |
| concretize(t, what)                 | `item()` ... on a non-array payload | the array, or raises |
| on_grad_read(t)                     | `t.grad` read                       | None                 |
| on_grad_write(t)                    | `t.grad = ...`                      | None                 |
| backward(root, gradient, retain)    | `root.backward(...)`                | None                 |
| grad(outputs, inputs, seeds, ...)   | `autograd.grad(...)`                | grads per input      |
| on_module_call(module)              | `module(...)`, before forward       | None                 |
| on_training_set(module, mode)       | `module.train(mode)` / `.eval()`    | None                 |
| cond(pred, true_fn, false_fn, ops)  | `graphnet.cond`                     | the branch's result  |
| while_loop(cond_fn, body_fn, carry) | `graphnet.while_loop`               | the final carry      |
| live_scalar(read, name)             | an optimizer's lr, betas ...        | a number or tensor   |
| label(t, name, resolve)             | optimizer state, parameters         | None                 |
| depends_on(what, read)              | a Python value the code used        | None                 |
| on_print(objects, sep, end, ...)    | `print(...)` while recording        | None                 |
| on_attribute_write(module, name, v) | `module.name = v`, a plain value    | None                 |

One flag is not a hook: `records_graph` (False here) is True for a mode that records a
program to run later. Python code then runs once, when tracing, so graphnet code that must
run on every call refuses (an lr scheduler's `step()`), and a few ops take the form a graph
prints best (`x[0]` keeps its index as an attribute); `graphnet.tracing()` reads it.
While such a mode records, `builtins.print` is replaced (`intercept_print`, only for the
duration of a trace) so that a print reaches `on_print` and can become part of the recorded
program instead of running once; outside a recording mode, and in other threads, print is
Python's own. A plain attribute written on an `nn.Module` reaches `on_attribute_write`.

Tensors made while a mode records a graph hold graph values and a `TracedNode` grad_fn. One
kept after the trace ended (appended to a list, stored on an object) has no tape behind it:
`backward()` through it and reading a value it never received raise `TraceError` saying so
(`escaped_error`)."""

from __future__ import annotations

import builtins
import sys
import threading

from . import _autograd
from ._errors import TraceError


class DispatchMode:
    """The base of every dispatch mode. Each hook's default is eager mode's behaviour.

    >>> class CountOps(DispatchMode):
    ...     def __init__(self):
    ...         self.count = 0
    ...     def run_op(self, opdef, args, attrs):
    ...         self.count += 1
    ...         return super().run_op(opdef, args, attrs)
    >>> with push_mode(CountOps()) as counter:
    ...     y = x * 2 + 1
    >>> counter.count
    2
    """

    records_graph: bool = False

    # ---- ops ---------------------------------------------------------------------------------
    def run_op(self, opdef, args: tuple, attrs: dict):
        """Every op call: `opdef` (the op table entry), `args` (Tensors, Python numbers or
        None, in the op's input order) and its static `attrs`. Returns what the op returns:
        a Tensor, or a tuple of them for an op with several outputs. Default: run it now."""
        from ._dispatch import run_eager  # NOTE: _dispatch imports this module

        return run_eager(opdef, args, attrs)

    def on_tensor_created(self, t) -> None:
        """A tensor `t` was made outside `run_op` (an alias from `.data` or `detach()`)."""

    def on_data_made(self, t) -> None:
        """A tensor `t` was made from data (`tensor([...])`, `from_numpy`): eager code makes
        a new one on every run, whatever the last run wrote into it."""

    def on_write(self, t) -> None:
        """`t`'s payload is about to be replaced, or an alias that writes through to it was
        made, possibly before anything read it (`p.data = ...`, `p.detach().zero_()`)."""

    def on_new_storage(self, t) -> None:
        """`t.data = other` gave `t` other storage: the aliases it handed out keep the old one."""

    def on_value_read(self, t, what: str) -> None:
        """Python code reads the values of `t`, which holds a jax.Array (for `what`)."""

    def concretize(self, t, what: str):
        """Python code needs the array of `t` (for `what`: `item()`, `bool()` ...) but its
        payload is not a jax.Array. Return the array, or raise. Default: a tensor holding a
        graph value outside any trace escaped from one: raise `escaped_error`."""
        raise escaped_error(t, what)

    # ---- autograd ----------------------------------------------------------------------------
    def on_grad_read(self, t) -> None:
        """`t.grad` is being read (it returns `t._grad` after this hook)."""

    def on_grad_write(self, t) -> None:
        """`t.grad` is being assigned (the new value is stored after this hook)."""

    def backward(self, root, gradient, retain_graph: bool | None) -> None:
        """`root.backward(gradient, retain_graph)`: fill the leaves' `.grad`. Default: walk
        the eager tape."""
        from .autograd._api import _make_grads
        from .autograd._engine import run_backward

        if not root.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
        seeds = _make_grads((root,), None if gradient is None else (gradient,), False)
        run_backward((root,), seeds, retain_graph=bool(retain_graph), create_graph=False)

    def grad(self, outputs: tuple, inputs: tuple, seeds: list, create_graph: bool,
             retain_graph: bool) -> list:
        """`graphnet.autograd.grad(outputs, inputs, seeds, retain_graph, create_graph)` (or
        backward() with `inputs=` or `create_graph=True`) while this mode records a graph:
        the gradient of each input, a Tensor (None where the outputs do not depend on it);
        with `create_graph` it is differentiable again. `seeds`: Tensors, one per output.
        `inputs` None (backward() with create_graph=True): every leaf that requires grad and
        that the outputs reach, as (leaf, grad) pairs. A mode that records a graph must
        override it; otherwise eager autograd runs."""
        if self.records_graph:
            raise TraceError(f"graphnet.autograd.grad is not supported by "
                             f"{type(self).__name__}: run this code uncompiled")
        from .autograd._engine import run_backward

        captured = run_backward(outputs, [s if create_graph else s._value for s in seeds],
                                retain_graph=retain_graph, create_graph=create_graph,
                                inputs=inputs, accumulate=False)
        from ._tensor import Tensor

        return [g if g is None or create_graph else Tensor._wrap(g) for g in captured]

    def reached_leaves(self, tensors) -> list | None:
        """The tensors that require grad and have no recorded history which `tensors`' history
        reaches, or None where this mode cannot tell (then: any that requires grad may)."""
        return None

    # ---- modules -----------------------------------------------------------------------------
    def before_registry_change(self, module) -> None:
        """Code is about to put other tensors into `module`'s parameter or buffer slots for a
        while (`functional_call`)."""

    def on_module_call(self, module) -> None:
        """`module(...)` was called; its forward runs next (its path is
        `_dispatch.module_path()`)."""

    def on_training_set(self, module, mode: bool) -> None:
        """`module.train(mode)` (or `.eval()`) set `module.training`, inside the mode."""

    # ---- control flow ------------------------------------------------------------------------
    def cond(self, pred, true_fn, false_fn, operands: tuple):
        """`graphnet.cond(pred, true_fn, false_fn, *operands)`: return the chosen branch's
        result. Default: a Python `if` on `bool(pred)`."""
        return true_fn(*operands) if bool(pred) else false_fn(*operands)

    def while_loop(self, cond_fn, body_fn, carry: tuple) -> tuple:
        """`graphnet.while_loop` with `carry` a tuple of tensors: return the final carry as a
        tuple. Default: a Python `while` on `bool(cond_fn(*carry))`."""
        from ._tensor import Tensor

        while bool(cond_fn(*carry)):
            result = body_fn(*carry)
            result = (result,) if isinstance(result, Tensor) else tuple(result)
            _check_carry(carry, result)
            carry = result
        return carry

    # ---- state and guards ----------------------------------------------------------------------
    def live_scalar(self, read, name: str):
        """A number that may change between calls (a learning rate), called `name`. Return
        the number to compute with: default `read()`; a tracer returns a graph input that
        is read again on every call."""
        return read()

    def label(self, t, name: str, resolve=None) -> None:
        """What to call `t` if it becomes a graph input, and (with `resolve`, a function of
        no arguments) how to find the tensor in that place on a later call."""

    def depends_on(self, what: str, read) -> None:
        """The code's behaviour depends on `read()` (a Python value it decided something
        with), described as `what`."""

    def argument_fact(self, t, what: str, fact):
        """`fact` of argument `t`'s values, or None (graphnet/_host_reads.argument_fact)."""
        return None

    def on_user_code(self, fn) -> None:
        """The user's function `fn` ran for the code without being called by it (a tensor
        or optimizer hook, a custom Function's forward or backward): what `fn` reads is
        part of what the code did."""

    def on_hook_table(self, table) -> None:
        """`table`, the dict of a `register_*hook` (a module's, a tensor's, an optimizer's),
        is about to gain or lose a hook (`RemovableHandle`)."""

    # ---- Python side effects -------------------------------------------------------------------
    def on_print(self, objects: tuple, sep: str, end: str, file, flush: bool) -> None:
        """`print(*objects, sep=sep, end=end, file=file, flush=flush)` while this mode records
        a graph (`intercept_print`); `sep` and `end` are strings (None became the default).
        Default: print now."""
        stream = sys.stdout if file is None else file
        if stream is not None:      # sys.stdout is None (pythonw): print writes nothing
            stream.write(sep.join(str(o) for o in objects) + end)
            if flush:
                stream.flush()

    def on_attribute_write(self, module, name: str, value) -> None:
        """`module.name = value` is about to store a plain Python value (not a tensor, module
        or parameter) on an `nn.Module`; the attribute still holds its old value."""


EAGER = DispatchMode()   # what graphnet does with no mode installed


class _ModeStack(threading.local):
    """The modes installed in this thread, innermost last."""

    def __init__(self):
        self.modes: list[DispatchMode] = []


_stack = _ModeStack()


def made_from_data(t):
    """`t`, a tensor just made from data, told to the current mode (see on_data_made)."""
    modes = _stack.modes
    if modes:
        modes[-1].on_data_made(t)
    return t


def current_mode() -> DispatchMode | None:
    """The innermost mode installed in this thread, or None (eager: DispatchMode's defaults)."""
    modes = _stack.modes
    return modes[-1] if modes else None


class push_mode:
    """Install `mode` in this thread for the duration of a `with` block."""

    def __init__(self, mode: DispatchMode):
        if not isinstance(mode, DispatchMode):
            raise TypeError(f"push_mode() takes a DispatchMode, got {type(mode).__name__}: "
                            f"subclass graphnet._mode.DispatchMode and override its hooks")
        self.mode = mode

    def __enter__(self) -> DispatchMode:
        _stack.modes.append(self.mode)
        return self.mode

    def __exit__(self, *exc) -> None:
        popped = _stack.modes.pop()
        assert popped is self.mode, "dispatch modes must be popped in the order pushed"


class _PrintHook:
    """`builtins.print` while some thread traces: the mode of the calling thread, if it
    records a graph, receives the call (`DispatchMode.on_print`); any other caller gets
    Python's print unchanged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = 0              # traces in progress, in all threads
        self.saved = builtins.print  # the print this hook replaced

    def __call__(self, *objects, **options):
        mode = current_mode()
        if mode is None or not mode.records_graph:
            return self.saved(*objects, **options)
        for key in options:
            if key not in ("sep", "end", "file", "flush"):
                raise TypeError(f"{key!r} is an invalid keyword argument for print()")
        text = {}
        for key, default in (("sep", " "), ("end", "\n")):
            value = options.get(key)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{key} must be None or a string, not {type(value).__name__}")
            text[key] = default if value is None else value
        mode.on_print(objects, text["sep"], text["end"], options.get("file"),
                      bool(options.get("flush", False)))

    def install(self) -> None:
        with self.lock:
            if self.users == 0:
                self.saved = builtins.print
                builtins.print = self
            self.users += 1

    def uninstall(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users == 0:
                if builtins.print is self:      # unless someone replaced it meanwhile
                    builtins.print = self.saved


_print_hook = _PrintHook()


class intercept_print:
    """`with intercept_print():` for the duration of a trace: `print` calls of this thread's
    recording mode go to its `on_print` hook. Restored on exit, also on error; nested and
    concurrent traces share one hook."""

    def __enter__(self) -> None:
        _print_hook.install()

    def __exit__(self, *exc) -> None:
        _print_hook.uninstall()


def tracing() -> bool:
    """True while a mode that records a graph (the compiler's tracer) is installed in this
    thread."""
    mode = current_mode()
    return mode is not None and mode.records_graph


class TracedNode(_autograd.TapeNode):
    """The grad_fn of a tensor that a recording mode made: it marks the tensor as a non-leaf
    that requires grad, while the gradient itself is the recorder's business (a `grad` node
    in the graph). It has no VJP: reached by eager `backward()`, after the trace ended, it
    raises `escaped_error`."""

    __slots__ = ("trace", "source")

    def __init__(self, op: str, out_avals: list, trace: str, source: str = ""):
        super().__init__(op, (), out_avals, (), None)
        self.trace = trace          # the traced function's name
        self.source = source        # the user's file:line that made it

    def refusal(self) -> TraceError:
        return escaped_error(None, "backward()", self)

    @property
    def next_functions(self):
        """Refused: a traced op's autograd edges are the graph's, not a tape's (an empty
        tuple would let a graph walk count nothing without a word)."""
        raise TraceError(f"grad_fn.next_functions of `{self.name()}` inside a graphnet.compile "
                         f"trace: the traced graph records no autograd tape to walk. Walk it "
                         f"in an eager call, or read the compiled graph (`.graph`, `graphnet "
                         f"dump`)")

    def slots(self) -> tuple:
        return ()

    def apply(self, cts):
        raise self.refusal()


def escaped_error(t, what: str, node: TracedNode | None = None) -> TraceError:
    """The error for using tensor `t` (or, with `t` None, the tensor `node` made) after the
    trace that made it ended, for `what` (`backward()`, `item()`, an op's name)."""
    if node is None and t is not None and isinstance(t.grad_fn, TracedNode):
        node = t.grad_fn
    trace = f"the graphnet.compile trace of `{node.trace}`" if node else \
        "a graphnet.compile trace"
    made = f" (by `{node.name_}`{f' at {node.source}' if node.source else ''})" if node else ""
    if what == "backward()":
        why = ("The compiled program computed its value, but no tape of eager autograd "
               "leads back from it. Return it from the compiled function instead: a compiled "
               "call's results are on the eager tape, so backward() through them works (or "
               "call backward() inside the compiled function).")
    else:
        why = (f"It holds the traced graph's placeholder {getattr(t, '_value', None)!r}, never "
               f"a value (the trace raised, or the code was traced and not run). Return it "
               f"from the compiled function instead: a compiled call's results hold values.")
    return TraceError(f"{what}: this tensor was made inside {trace}{made} and kept after the "
                      f"trace ended (appended to a list, stored on an object). {why}")


def _check_carry(carry: tuple, result: tuple) -> None:
    """torch.while_loop's rule, checked as the body runs: it returns the carry's shapes and
    dtypes (a compiled loop refuses the body otherwise; eagerly it ran on)."""
    from ._tensor import Tensor

    def meta(items):
        return [(tuple(x.shape), x.dtype) if isinstance(x, Tensor) else "a number"
                for x in items]

    if meta(carry) != meta(result):
        raise RuntimeError(f"graphnet.while_loop: the body must return the carry's shapes and "
                           f"dtypes, as torch.while_loop requires: the carry is {meta(carry)}, "
                           f"the body returned {meta(result)}")
