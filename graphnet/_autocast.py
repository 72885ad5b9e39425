"""Autocast: the per-thread state `graphnet.autocast` sets, and the casts `dispatch` applies.

Inside an enabled CPU region an op runs in the dtype PyTorch's CPU autocast gives it, by name
(PyTorch's "Autocast Op Reference", CPU section, checked against torch 2.13 op by op):

- `LOWER` ops (matmul, linear, convolutions, prelu, attention, contracting einsum) round
  their floating inputs to the region's dtype (bfloat16 by default, float16 allowed) and
  return it, accumulating in float32 as PyTorch's CPU kernels do (see `run`);
- `FLOAT32` ops (losses, cdist, prod, quantile, grid_sample, linalg solvers, 3-D pooling,
  reflection/replication padding) cast them to float32;
- `PROMOTE` ops (cat, stack, index_copy) cast them to the widest floating input dtype;
- an einsum of three or more operands runs as PyTorch's chain of pairwise einsums, each
  cast by the two-operand rule (graphnet/_autocast_einsum.py);
- every other op runs in its inputs' dtypes.

Only float16, bfloat16 and float32 tensors are cast (float64 never, integers never), as in
PyTorch. A cast is an ordinary `cast` op recorded before the op, so autograd gives each leaf
a gradient in its own dtype and a tracer records the cast into the compiled graph.

NOTE: `active` is the only thing `dispatch` reads when no region is enabled anywhere: one
module attribute test on the eager hot path. It counts enabled regions over all threads; the
state itself is per thread, as PyTorch's is.
NOTE: PyTorch also caches the cast of a leaf weight for the rest of its outermost region
(`cache_enabled`); graphnet casts on every use. The forward values are the same (a cast
rounds the same float32 values); a weight used twice gets its two gradients added in float32,
where PyTorch adds them in the region's dtype first."""

from __future__ import annotations

import functools
import threading

from . import _dtype as dt
from ._autocast_einsum import contracts as einsum_contracts
from ._autocast_einsum import einsum_pairwise

active = 0   # enabled regions, all threads together; dispatch reads nothing else while 0
_lock = threading.Lock()
_CASTABLE = (dt.float16, dt.bfloat16, dt.float32)   # PyTorch's "eligible" dtypes


class _State(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": dt.bfloat16, "cuda": dt.float16}
        self.cache_enabled = True
        self.nesting = 0


state = _State()


def backend_is_gpu() -> bool:
    """Whether graphnet's tensors live on a GPU (then a "cpu" region casts none of them)."""
    import jax

    return jax.default_backend() == "gpu"


def set_enabled(device_type: str, enabled: bool) -> None:
    """Switch autocast for `device_type` in this thread (keeps `active` counting)."""
    global active
    was = state.enabled.get(device_type, False)
    state.enabled[device_type] = bool(enabled)
    if was != bool(enabled) and device_type == "cpu" and not backend_is_gpu():
        with _lock:
            active += 1 if enabled else -1


def compile_key() -> tuple:
    """What a compiled program depends on: whether, and in which dtype, ops are cast now."""
    if not active or not state.enabled["cpu"]:
        return ()
    return ("autocast", state.dtype["cpu"].name)


# ---- the per-op policy --------------------------------------------------------------------

LOWER = frozenset({"matmul", "linear", "conv", "conv_transpose", "prelu",
                   "scaled_dot_product_attention",
                   "affine_grid",   # PyTorch's is a bmm of the base grid and theta
                   "rnn_layer", "rnn_packed_layer"})   # nn.RNN: its per-step linears
FLOAT32 = frozenset({
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
    "soft_cross_entropy", "kl_div", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cosine_embedding_loss", "hinge_embedding_loss", "poisson_nll_loss", "margin_ranking_loss",
    "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "ctc_loss", "cdist", "prod", "quantile", "grid_sample", "max_unpool", "fractional_max_pool",
    "cholesky_inverse", "cholesky_solve", "linalg_inv", "linalg_pinv", "linalg_cholesky",
    "linalg_qr", "linalg_svd", "linalg_svdvals", "linalg_eigh", "linalg_lstsq", "linalg_solve",
    "trace", "triangular_solve", "linalg_householder_product", "linalg_inv_ex",
    "linalg_cholesky_ex",
})
_ONEDNN = frozenset({"lstm_layer", "lstm_packed_layer"})
_RECURRENT = _ONEDNN | {"gru_layer", "gru_packed_layer"}
PROMOTE = frozenset({"cat", "stack", "index_copy"})
# `out=` forms PyTorch runs uncast: autocast wraps the functional op only, and each of these
# has an out= kernel of its own (`torch.mm(a, b, out=o)` multiplies in float32). A composite
# whose out= form calls the functional op (tensordot, inner, chain_matmul) stays cast.
OUT_NOT_CAST = frozenset({
    "mm", "matmul", "bmm", "addmm", "baddbmm", "addbmm", "prod", "index_copy",
    "cholesky_inverse", "quantile", "nanquantile", "linalg.inv", "linalg.pinv",
    "linalg.cholesky", "linalg.svd", "linalg.svdvals", "linalg.solve", "linalg.qr",
    "linalg.eigh",
})
# float32 only for 3-D windows (max_pool3d, avg_pool3d, adaptive_*_pool3d): the attribute
# that says how many spatial dims the op pools over
_POOL_3D = {"max_pool": "kernel_size", "max_pool_with_indices": "kernel_size",
            "avg_pool": "kernel_size", "adaptive_avg_pool": "output_size",
            "adaptive_max_pool": "output_size", "adaptive_max_pool_with_indices": "output_size"}


def policy(name: str, args: tuple, attrs: dict):
    """How this thread's region casts op `name`: 'lower', 'float32', 'promote', 'pairwise'
    (an einsum of three or more operands: graphnet/_autocast_einsum.py) or None."""
    if not state.enabled["cpu"]:
        return None
    if name in LOWER:
        return "lower"
    if name in _RECURRENT:
        # PyTorch's CPU LSTM is oneDNN's, cast to the lower type (with projections, and
        # graphnet's GRU, only when the input already is: they run PyTorch's own kernels)
        lower = bool(args) and getattr(args[0], "dtype", None) == state.dtype["cpu"]
        return "lower" if lower or (name in _ONEDNN and not attrs.get("proj")) else None
    if name in FLOAT32:
        return "float32"
    if name in PROMOTE:
        return "promote"
    if name in _POOL_3D:
        size = attrs.get(_POOL_3D[name])
        return "float32" if isinstance(size, (tuple, list)) and len(size) == 3 else None
    if name == "pad":
        mode = attrs.get("mode")
        return "float32" if mode == "replicate" or (
            mode == "reflect" and _reflected_dims(attrs.get("pads", ())) <= 2) else None
    if name == "einsum" and len(args) >= 3:
        return "pairwise"   # PyTorch's chain of pairs, each cast by its own rule
    if name == "einsum" and einsum_contracts(attrs.get("equation", ""), args):
        return "lower"
    return None


def _reflected_dims(pads) -> int:
    """How many dims a reflect pad pads (PyTorch casts reflection_pad1d/2d to float32, not
    3d). `pads` holds one pair per input dim; a reflect pad covers all but the one or two
    leading (batch, channel) dims, so only a 4-d input is ambiguous: a pair on dim 1 says 3-d.
    (It counted the input's rank: (C, L) input took bfloat16, a 3-d pad float32.)"""
    rank = len(pads)
    if rank == 4:
        return 3 if tuple(pads[1]) != (0, 0) else 2
    return 3 if rank >= 5 else rank - 1


def _promoted(floats: list, lower) -> object:
    """PyTorch's `promote_type` over the floating inputs: the widest, starting from the lower
    dtype; a float16 input in a bfloat16 region (or the reverse) is an error there."""
    current = lower
    for _ in range(2):   # NOTE: as torch 2.13 behaves: cat([half]) raises in a bf16 region
        for t in floats:
            if current is dt.float64:
                continue
            if current is dt.float32:
                current = dt.float64 if t is dt.float64 else current
            elif current is lower:
                current = t
            else:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return current


def run(policy: str, name: str, args: tuple, attrs: dict):
    """Run op `name` as the region casts it (`dispatch` calls this when `policy` is not None).

    NOTE: a lower-precision op rounds its inputs to the region's dtype, runs in float32 and
    rounds its result: what PyTorch's CPU kernels compute (they accumulate in float32). Run in
    bfloat16 itself, the op's backward summed in bfloat16: Linear's bias gradient over 4096
    rows was off by 0.69 (torch: 2e-4). A float64 input (never cast) leaves the op in its
    dtypes, as in PyTorch, which then raises for the mixed dtypes as it does."""
    from ._dispatch import dispatch   # NOTE: _dispatch imports this module
    from ._tensor import Tensor

    if policy == "pairwise":
        return einsum_pairwise(args, attrs["equation"])
    lower = state.dtype["cpu"]
    floats = [a.dtype for a in args if isinstance(a, Tensor) and a.dtype.is_floating_point]
    if policy == "lower":
        target = lower
    elif policy == "float32":
        target = dt.float32
    else:
        target = _promoted(floats, lower)
    accumulate = policy == "lower" and bool(floats) and all(d in _CASTABLE for d in floats)
    cast = []
    for a in args:
        if isinstance(a, Tensor) and a.dtype in _CASTABLE:
            if a.dtype is not target:
                a = dispatch("cast", a, dtype=target.np)
            if accumulate:
                a = dispatch("cast", a, dtype=dt.float32.np)
        cast.append(a)
    state.enabled["cpu"] = False   # NOTE: `active` keeps counting this region
    try:
        out = dispatch(name, *cast, **attrs)
    finally:
        state.enabled["cpu"] = True
    if not accumulate:
        return out
    outs = out if isinstance(out, tuple) else (out,)
    outs = tuple(dispatch("cast", o, dtype=target.np) if o.dtype is dt.float32 else o
                 for o in outs)
    return outs if isinstance(out, tuple) else outs[0]


def uncast(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` with this thread's region paused: PyTorch does not cast it."""
    if not active or not state.enabled["cpu"]:
        return fn(*args, **kwargs)
    state.enabled["cpu"] = False   # NOTE: `active` keeps counting this region
    try:
        return fn(*args, **kwargs)
    finally:
        state.enabled["cpu"] = True


def autocast_as(policy: str | None):
    """Decorate a composite function (several ops) that PyTorch autocasts as one op: in an
    enabled region its tensor arguments are cast by `policy` ("lower", "float32", "promote";
    None leaves them as they are) and its body runs with casting paused, so the ops inside
    are not cast again. Outside a region it costs one test.

    >>> @autocast_as("lower")      # torch.addmm: bfloat16 out, as one op
    ... def addmm(input, mat1, mat2, *, beta=1, alpha=1): ...
    >>> @autocast_as(None)         # torch.mv: not autocast, though graphnet's runs a matmul
    ... def mv(input, vec): ...
    """
    def decorate(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            if not active or not state.enabled["cpu"]:
                return fn(*args, **kwargs)
            if policy is not None:
                args, kwargs = _cast_call(policy, args, kwargs)
            state.enabled["cpu"] = False   # NOTE: `active` keeps counting this region
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled["cpu"] = True
        return run
    return decorate


def _cast_call(policy: str, args: tuple, kwargs: dict) -> tuple:
    """(args, kwargs) with their floating tensors cast to `policy`'s dtype, keyword ones
    (`weight=`) too, as PyTorch casts every tensor argument of the op."""
    from ._tensor import Tensor

    names = [k for k, v in kwargs.items() if isinstance(v, Tensor)]
    cast = _cast_arguments(policy, args + tuple(kwargs[k] for k in names))
    return cast[:len(args)], {**kwargs, **dict(zip(names, cast[len(args):]))}


def _cast_arguments(policy: str, args: tuple) -> tuple:
    """`args` with their floating tensors cast to `policy`'s dtype (for `autocast_as`)."""
    from ._dispatch import dispatch   # NOTE: _dispatch imports this module
    from ._tensor import Tensor

    lower = state.dtype["cpu"]
    floats = [a.dtype for a in args if isinstance(a, Tensor) and a.dtype.is_floating_point]
    target = lower if policy == "lower" else dt.float32 if policy == "float32" \
        else _promoted(floats, lower)
    return tuple(dispatch("cast", a, dtype=target.np)
                 if isinstance(a, Tensor) and a.dtype in _CASTABLE and a.dtype is not target
                 else a for a in args)
