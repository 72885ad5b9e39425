"""Dispatch: every graphnet op call goes through `dispatch(name, *args, **attrs)`.

With no mode active, the op runs eagerly: its kernel, jitted once per (op, attributes), runs
now, and a `TapeNode` is recorded when an input requires grad (the dynamic graph). A mode
installed in this thread (the compiler's tracer) takes the call instead and records a graph
node: the protocol is `graphnet/_mode.py`, re-exported here."""

from __future__ import annotations

import functools
import math
import os
import sys
import threading
from collections import OrderedDict

import jax
import numpy as np
from jax._src import util as jax_util  # clear_all_caches: see KernelCache.shrink

from . import _autocast, _autograd, _func_active
from . import _xla as xla
from ._ops import OPS
from ._ops._checks import check_eagerly
from ._x64 import x64
from ._mode import DispatchMode, current_mode, escaped_error, push_mode  # noqa: F401
from ._tensor import Tensor
from ._complex_numbers import COMPLEX_NUMBERS, NUMBERS_TO_CONVERT, complex_number_error, \
    plain_number, tensor_number
# NOTE: re-exported: the tracer and the nn layer raise them through this module
from ._kernel_errors import kernel_error, shape_error  # noqa: E402,F401

class _ModuleCalls(threading.local):
    """The nn.Module calls in progress in this thread, like the mode stack (_mode.py)."""
    def __init__(self):
        self.stack: list = []   # (module, path), innermost last


_module_calls = _ModuleCalls()


def module_stack() -> list:
    """This thread's nn.Module calls in progress: (module, dotted path), innermost last."""
    return _module_calls.stack


def module_path() -> str:
    """Dotted path of the module whose forward is running (`features.0`), '' at top level."""
    return _module_calls.stack[-1][1] if _module_calls.stack else ""


class KernelCache:
    """The eager path's jitted kernels, keyed by (op, attributes ...), holding about
    `max_kernels` compiled executables between them at most.

    NOTE: `jax.jit` compiles once per input shape inside each jitted function and never
    evicts; JAX also keeps, process-wide, what it traced and lowered for each shape (jaxprs
    of jnp's own helpers, MLIR modules): more memory than the executables. An eager MLP
    training step over 120 batch sizes grew its process from 0.26 to 2.6 GB. JAX cannot drop one
    shape from a jitted function, only all of them (`clear_cache()`), and each function says
    how many it holds (`_cache_size()`, one C++ call). So this is an LRU over jitted
    functions: `get` recounts the function it returns (what it compiled since the last `get`;
    a new function counts 1, its first compile); past `max_kernels` the least recently used
    functions are cleared until half the budget is free. JAX's trace caches are cleared after
    every `max_kernels // 8` compiles: what they hold is needed only while compiling."""

    def __init__(self, max_kernels: int):
        self.max_kernels = max_kernels
        # key -> [jitted fn, executables it held when last counted], least recent first
        self.entries: OrderedDict = OrderedDict()
        self.total = 0            # executables held, summed over entries
        self.evictions = 0        # functions cleared so far
        self.compiled_since_clear = 0  # compiles since JAX's trace caches were last cleared

    def get(self, key, make, *make_args, donate: tuple = ()):
        """The jitted function for `key`: `jax.jit(make(*make_args))` on first use (donating
        the arguments at positions `donate`, which `key` must tell apart)."""
        entry = self.entries.get(key)
        if entry is not None and entry[0]._cache_size() == entry[1]:   # the hot path
            self.entries.move_to_end(key)
            return entry[0]
        if entry is None:
            fn = xla.jit(make(*make_args), key[0] in xla.CONV_OPS,   # key[0]: the op name
                         **({"donate_argnums": donate} if donate else {}))
            self.entries[key] = [fn, 1]
            self.total += 1
            self.compiled_since_clear += 1
        else:
            self.entries.move_to_end(key)
            fn, counted = entry
            entry[1] = size = fn._cache_size()
            self.total += size - counted
            self.compiled_since_clear += max(size - counted, 0)
        if self.total > self.max_kernels:
            self.shrink(self.max_kernels // 2, keep=key)
        elif self.compiled_since_clear > self.max_kernels // 8:
            _clear_jax_trace_caches()
            self.compiled_since_clear = 0
        return fn

    def shrink(self, target: int, keep=None) -> None:
        """Clear least recently used functions until at most `target` executables are held.
        `keep` (the function being returned) is cleared only if it alone is over `target`,
        and stays cached, empty."""
        for key, entry in list(self.entries.items()):
            if self.total <= target:
                break
            entry[0].clear_cache()
            self.total -= entry[1]
            self.evictions += 1
            if key == keep:
                entry[1] = 0
            else:
                del self.entries[key]
        _clear_jax_trace_caches()
        self.compiled_since_clear = 0


def _clear_jax_trace_caches() -> None:
    """Clear JAX's Python-level trace and lowering caches. Every jitted function keeps the
    executables it holds (`jax.clear_caches()` would drop those too: compiled graphs would
    recompile); a later compile retraces what it needs."""
    clear = getattr(jax_util, "clear_all_caches", None)  # private: absent -> executables only
    if clear is not None:
        clear()


def _max_kernels_from_env() -> int:
    value = os.environ.get("GRAPHNET_KERNEL_CACHE_SIZE", str(DEFAULT_KERNEL_CACHE_SIZE))
    try:
        return _valid_size(int(value))
    except ValueError:
        raise ValueError(f"GRAPHNET_KERNEL_CACHE_SIZE={value!r}: expected a positive number "
                         f"of compiled kernels, e.g. GRAPHNET_KERNEL_CACHE_SIZE=1024") from None


def _valid_size(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"kernel cache size must be a positive int, got {n!r}")
    return n


DEFAULT_KERNEL_CACHE_SIZE = 512
_kernels = KernelCache(_max_kernels_from_env())


def set_kernel_cache_size(n: int) -> None:
    """Keep at most `n` compiled eager kernels (forward and backward, all shapes together);
    the least recently used are dropped first. Default 512, or `GRAPHNET_KERNEL_CACHE_SIZE`.

    >>> graphnet.set_kernel_cache_size(2048)   # many shapes in the working set
    """
    _kernels.max_kernels = _valid_size(n)
    if _kernels.total > n:
        _kernels.shrink(n // 2)


def kernel_cache_info() -> dict:
    """How full the eager kernel cache is: compiled `entries` (all shapes) of `max_entries`,
    the jitted `functions` holding them, and `evictions` (functions dropped) so far."""
    return {"entries": _kernels.total, "max_entries": _kernels.max_kernels,
            "functions": len(_kernels.entries), "evictions": _kernels.evictions}


def clear_kernel_cache() -> None:
    """Drop every compiled eager kernel (they recompile on next use)."""
    _kernels.shrink(0)


# graphnet.track_memory() (graphnet/_memory.py) sets this while it measures: the eager path
# then samples live memory after each op and VJP. None otherwise (one test per op).
memory_probe = None


def _bind(impl, attrs: dict):
    return functools.partial(impl, **attrs)


def eager_kernel(name: str, **attrs):
    """Op `name`'s jitted kernel for `attrs`, the one eager calls use (from the bounded cache)."""
    return _kernels.get((name, attrs_key(attrs)), _bind, OPS[name].impl, attrs)


def attrs_key(attrs: dict) -> tuple:
    """A cache key of an op's `attrs` that tells 1, 1.0 and True apart, and 0.0 from -0.0:
    equal as dictionary keys, they are not the same kernel (one built for `max=1.0` made an
    int64 clamp float64, silently, on every later `clamp(max=1)` of an integer tensor)."""
    kinds = tuple(map(type, attrs.values()))
    if float in kinds:   # 0.0 and -0.0 are equal keys too, and clamp(min=-0.0) keeps -0.0
        kinds += tuple(math.copysign(1.0, v) for v in attrs.values() if type(v) is float)
    return tuple(attrs.items()), kinds


def dispatch(name: str, *args, **attrs):
    """Run op `name` on `args` (Tensors or Python scalars) with static `attrs`."""
    opdef = OPS[name]
    if _func_active.FORWARD[0] and not _autograd.grad_mode.enabled:   # jvp's tangent, cut?
        _func_active.check_cut_tangent(name, args)
    for key, value in attrs.items():    # `clamp(x, np.float64(0.5))`: a Python number (JAX
        if isinstance(value, NUMBERS_TO_CONVERT):   # made float64); `x.sum(tensor(1))`: an int
            attrs[key] = plain_number(name, value)
        elif isinstance(value, Tensor) and value.ndim == 0:
            attrs[key] = tensor_number(value)
    if _autocast.active and (cast := _autocast.policy(name, args, attrs)) is not None:
        return _autocast.run(cast, name, args, attrs)   # autocast (graphnet/_autocast.py)
    mode = current_mode()
    if mode is not None:
        for i, a in enumerate(args):   # what run_eager refuses (a mode would take an ndarray
            if not (a is None or isinstance(a, _OPERANDS)):   # as a constant, silently)
                raise non_tensor_error(opdef.name, i, a)
            if isinstance(a, COMPLEX_NUMBERS):
                raise complex_number_error(name, a)
        return mode.run_op(opdef, args, attrs)
    return run_eager(opdef, args, attrs)


# Where an op takes a tensor it also takes a number (`x + 1`, `clamp(x, 0, 1)`) or None (an
# optional input left out), as PyTorch does. Anything else is refused: `non_tensor_error`.
_SCALARS = (int, float, complex, np.generic)
_OPERANDS = (Tensor,) + _SCALARS


def run_eager(opdef, args, attrs):
    # NOTE: this runs once per eager op, so it does only what the call needs: the tape is
    # looked at only when an input requires grad, and one output is wrapped without a loop.
    # `python -m graphnet.runtime.dispatch_bench` measures it against PyTorch eager.
    key = attrs_key(attrs) if attrs else ()
    arrays = []
    wants_grad = False
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a._value)
            if a.requires_grad:
                wants_grad = True
        elif a is None or isinstance(a, _SCALARS):
            # a NumPy number counts as the Python number it holds, as in PyTorch
            arrays.append(plain_number(opdef.name, a) if isinstance(a, NUMBERS_TO_CONVERT)
                          else a)
        else:
            raise non_tensor_error(opdef.name, len(arrays), a)
    name = opdef.name
    if opdef.check is not None:   # out-of-range indices and labels raise, as in PyTorch
        check_eagerly(opdef, key, attrs, arrays)
    grad_mode = _autograd.grad_mode
    records = wants_grad and grad_mode.enabled and opdef.differentiable
    residual = opdef.eager_residuals(attrs, arrays) \
        if records and opdef.eager_residuals is not None else None
    if residual is not None:
        kernel = _kernels.get((name, key, "residuals", residual[2]), _first, residual[0])
    elif opdef.overwrites is not None and (donate := _donated(arrays,
                                                            opdef.overwrites(args, attrs))):
        kernel = _kernels.get((name, key, donate), _bind, opdef.impl, attrs, donate=donate)
    else:
        kernel = _kernels.get((name, key), _bind, opdef.impl, attrs)
    try:
        with x64():   # PyTorch's int64/float64, in this call only (graphnet/_x64.py)
            out = kernel(*arrays)
    except (TypeError, ValueError, IndexError, NameError) as err:
        raise _escaped_input(name, args) or kernel_error(opdef, args, attrs, err) from None
    if residual is not None:
        out, residuals = out
    single = opdef.n_outputs == 1
    outs = (out,) if single else out
    node = None
    if records:
        skip = opdef.nondiff_inputs
        needs = tuple(i for i, a in enumerate(args)
                      if isinstance(a, Tensor) and a.requires_grad and i not in skip)
        if needs:
            edges = tuple(_edge(args[i]) for i in needs)
            vjp = _kernels.get((name, key, needs, len(arrays)), _autograd.make_vjp,
                               opdef, attrs, needs)
            fast = None
            if residual is not None:   # the backward from the forward's residuals
                backward = _kernels.get((name, key, "residuals-backward", residual[2]),
                                        _first, residual[1])
                fast = functools.partial(_from_residuals, backward, residuals)
            if memory_probe is not None:
                vjp = memory_probe.sampled(vjp, name)
                fast = fast and memory_probe.sampled(fast, name)
            node = _autograd.op_node(name, vjp, arrays, edges, outs, needs, args, fast)
    # NOTE: integer and bool outputs (`x.long()`, pooling indices) never require grad, as in
    # PyTorch: no gradient can flow back through them.
    if node is None:
        results = (Tensor._wrap(out),) if single else \
            tuple(Tensor._wrap(o, None, i) for i, o in enumerate(outs))
    else:
        grad_dtypes = _autograd.GRAD_DTYPES
        results = tuple(Tensor._wrap(o, node if o.dtype in grad_dtypes else None, i)
                        for i, o in enumerate(outs))
    if grad_mode.inference:   # made under inference_mode(): an inference tensor
        _autograd.mark_inference(results)
    if memory_probe is not None:
        memory_probe.sample(name)
    return results[0] if single else results


def _first(fn):
    return fn


def _from_residuals(backward, residuals, saved, cts):
    """A residual node's VJP (`TapeNode.apply` passes the saved primals, unused here)."""
    with x64():
        return backward(residuals, cts)


# References to an input array that only its tensor holds: the tensor, run_eager's `arrays`
# and sys.getrefcount's own argument. More: an alias (`p.detach()`, a tape node that saved
# it), which a donated, deleted buffer would break.
_OWNERS = 3
DONATE_MIN_BYTES = 1 << 17


def _donated(arrays: list, positions: tuple) -> tuple:
    """The arrays at `positions` an eager kernel may consume: each held by its tensor alone,
    which the caller is about to point at the kernel's output (an optimizer's parameters and
    state), and of at least DONATE_MIN_BYTES. Empty when any one is held elsewhere.
    NOTE: the MLP's eager SGD update, fed its own outputs as a training loop does, took
    524 us allocating new buffers and 176 us donating the old; its whole eager step became
    3-5% faster. Small buffers cost little to allocate: LeNet's (120 KB at most) are not
    donated."""
    if any(sys.getrefcount(arrays[i]) > _OWNERS for i in positions):
        return ()
    return tuple(i for i in positions if arrays[i].nbytes >= DONATE_MIN_BYTES)


def non_tensor_error(op: str, position: int, value) -> TypeError:
    """The error for a value that is not a Tensor (nor a number) where op `op` takes one:
    a NumPy array, a list, a tuple, a raw jax.Array. `position` counts from 0; the message
    counts from 1, like PyTorch's `relu(): argument 'input' (position 1) must be Tensor`.

    >>> F.relu([1.0, -2.0])   # TypeError: relu(): argument at position 1 must be ...
    """
    cls = type(value)
    what = "jax.Array" if isinstance(value, jax.Array) else cls.__qualname__ \
        if cls.__module__ == "builtins" else f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        what += f" of shape {list(value.shape)} and dtype {value.dtype}"
    where = module_path()
    prefix = f"{where}: " if where else ""
    # NOTE: PyTorch's functions refuse an ndarray too (`torch.add(t, a)`); its operators take
    # one (`t + a`, graphnet/_numpy_compat_arrays.py), so say which is which.
    operators = " (an operator such as `tensor + array` takes a NumPy array, as in PyTorch)" \
        if isinstance(value, np.ndarray) else ""
    return TypeError(
        f"{prefix}{op}(): argument at position {position + 1} must be a Tensor, not {what}. "
        f"graphnet's functions, like PyTorch's, take Tensors (or Python numbers) and do not "
        f"convert other arrays{operators}: wrap it first with graphnet.as_tensor(x) or "
        f"graphnet.tensor(x)")


def _escaped_input(op: str, args):
    """The error for an eager op given a tensor that holds a graph value (kept from a
    trace), or None."""
    for a in args:
        if isinstance(a, Tensor) and not isinstance(a._value, jax.Array):
            return escaped_error(a, f"{op}()")
    return None


def _edge(t: Tensor):
    return (t.grad_fn, t._oi) if t.grad_fn is not None else (t, None)


def live_scalar(read, name: str):
    """A Python number that may change between calls (a learning rate). Eagerly it is just
    `read()`; a tracer makes it a graph input that is read again on every run, so changing it
    (an lr scheduler) never forces a recompile and is never baked in stale."""
    mode = current_mode()
    return read() if mode is None else mode.live_scalar(read, name)


def label_state(tensor: Tensor, name: str, resolve=None) -> None:
    """Tell an active tracer what to call `tensor` if it becomes a graph input, and (with
    `resolve`) how to find the tensor in that place on a later call: a compiled call then
    reads whatever is there (optimizer state after `load_state_dict`), not this object."""
    mode = current_mode()
    if mode is not None:
        mode.label(tensor, name, resolve)


def ran_user_code(*fns) -> None:
    """Tell an active tracer that the user's functions `fns` (hooks, a custom Function's
    forward and backward) ran for the traced code: a global or attribute they read that
    changes later recompiles, as one the traced function reads does."""
    mode = current_mode()
    if mode is not None:
        for fn in fns:
            if fn is not None:
                mode.on_user_code(fn)


def depends_on(what: str, read) -> None:
    """Tell an active tracer that the traced code's behaviour depends on `read()` (a Python
    value it decided something with: an optimizer's `nesterov` flag). A compiled call whose
    `read()` differs recompiles with the reason `guard failed: {what}`."""
    mode = current_mode()
    if mode is not None:
        mode.depends_on(what, read)
