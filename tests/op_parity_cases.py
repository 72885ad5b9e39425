"""One parity case per public op: the op name -> inputs and a call that runs on both libraries.

`call(T, *inputs)` is written once with `T` either `torch` or `graphnet` (`torch_call` only where
PyTorch spells it differently). tests/test_op_parity.py runs every case: forward values and
dtypes, then the gradients of every float input (unless the op is not differentiable). The
walker there fails, naming the op, for every public op (one with a graphnet function or a
Tensor method in its op-table entry) that has no case here. Adding an op = one `defop` entry
plus one case here (or, for ops users never call directly, one line in `ELSEWHERE`).

The many plain pointwise ops get generated cases (`_unary_case`, `_binary_case`), which also
check every method and in-place name the table gives them.

Families of ops keep their cases in their own file, tests/op_cases_<family>.py, built from
tests/op_case_kit.py (`Case` and the input makers); that file's `CASES` and `ELSEWHERE` are
merged into the tables here (a family case may replace a generated one, nothing else)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
from op_case_kit import (  # noqa: F401  (re-exported for the family files and the runner)
    F, Case, _f, bools, fixed, ints, positive, randn, unit,
)

from graphnet._ops import OPS


def _unary_case(name: str) -> Case:
    domain = {"log", "sqrt", "rsqrt", "log2", "log1p", "reciprocal"}
    if name == "logical_not":
        inputs = (bools(3, 4),)
    elif name in ("isnan", "isinf"):
        inputs = (fixed([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.5]]),)
    else:
        inputs = (positive(3, 4) if name in domain else randn(3, 4),)
    return Case(lambda T, x: getattr(T, name)(x), inputs, names=True)


def _binary_case(name: str) -> Case:
    if name in ("eq", "ne", "lt", "le", "gt", "ge"):
        inputs = (ints(0, 3, 3, 4), ints(0, 3, 4))
    elif name in ("logical_and", "logical_or"):
        inputs = (bools(3, 4), bools(4))
    elif name in ("floor_divide", "remainder"):
        inputs = (randn(3, 4), positive(4))
    else:
        inputs = (randn(3, 4), randn(4))
    if name == "floor_divide":   # `//` raises on backward (test_refusals_hunt28.py); the op
        # is differentiable with zero gradients through div(rounding_mode="floor")
        return Case(lambda T, x, y: T.div(x, y, rounding_mode="floor"), inputs, names=True)
    return Case(lambda T, x, y: getattr(T, name)(x, y), inputs, names=True)


def _setitem(T, x, v):
    y = x.clone()
    y[1:, 0] = v
    return y


def _python_if(T, p, x):
    return x.exp() if p else x * 2


def _python_while(T, x):
    while x.norm() > 1:
        x = x / 2
    return x


_GENERATED = {op.name for op in OPS.values() if op.bind in ("unary", "binary")}

CASES: dict[str, Case] = {
    **{op.name: _unary_case(op.name) for op in OPS.values() if op.bind == "unary"},
    **{op.name: _binary_case(op.name) for op in OPS.values() if op.bind == "binary"},
    # pointwise with PyTorch's extra arguments
    "add": Case(lambda T, x, y: T.add(x, y, alpha=2) + x.add(1.5), (randn(3, 4), randn(4))),
    "sub": Case(lambda T, x, y: T.sub(x, y, alpha=0.5) - x.sub(y), (randn(3, 4), randn(3, 4))),
    "div": Case(lambda T, x, y: T.div(x, y) + x.div(y, rounding_mode="trunc").detach(),
                (randn(3, 4), positive(4))),
    "pow": Case(lambda T, x, y: T.pow(x, y) + x.pow(2), (positive(3, 4), randn(4))),
    "where": Case(lambda T, c, x, y: T.where(c, x, y), (bools(3, 4), randn(3, 4), randn(4))),
    "clamp": Case(lambda T, x: T.clamp(x, -0.5, 0.5) + x.clip(min=0.2), (randn(3, 4),)),
    "clone": Case(lambda T, x: x.clone() * 2, (randn(3, 4),)),
    "cast": Case(lambda T, x: x.to(T.float16) * 2, (randn(3, 4),), atol=1e-2, rtol=1e-2),
    **{n: Case(lambda T, x, n=n: _f(T, n)(x), (randn(3, 4),))
       for n in ["relu6", "silu", "leaky_relu", "elu", "gelu", "softplus", "hardtanh"]},
    "prelu": Case(lambda T, x, w: _f(T, "prelu")(x, w), (randn(2, 3, 4), positive(3))),
    # reductions and scans
    "sum": Case(lambda T, x: T.sum(x, 1) + x.sum(), (randn(3, 4),)),
    "mean": Case(lambda T, x: T.mean(x, (0, 1), keepdim=True), (randn(3, 4, 2),)),
    "prod": Case(lambda T, x: T.prod(x, 1), (positive(3, 4),)),
    "amax": Case(lambda T, x: T.amax(x, 1) + x.max(), (randn(3, 4),)),
    "amin": Case(lambda T, x: T.amin(x, 0) + x.min(), (randn(3, 4),)),
    "argmax": Case(lambda T, x: T.argmax(x, 1), (randn(3, 4),)),
    "argmin": Case(lambda T, x: x.argmin(dim=0, keepdim=True), (randn(3, 4),)),
    "var": Case(lambda T, x: T.var(x, 1) + x.var(unbiased=False), (randn(3, 4),)),
    "std": Case(lambda T, x: T.std(x, 0, correction=0), (randn(3, 4),)),
    "norm": Case(lambda T, x: T.norm(x, dim=1) + x.norm(p=1), (randn(3, 4),)),
    "logsumexp": Case(lambda T, x: T.logsumexp(x, 1), (randn(3, 4),)),
    "softmax": Case(lambda T, x: T.softmax(x, -1), (randn(3, 4),)),
    "log_softmax": Case(lambda T, x: _f(T, "log_softmax")(x, dim=0), (randn(3, 4),)),
    "cumsum": Case(lambda T, x: T.cumsum(x, 1) + x.cumsum(-2), (randn(3, 4),)),
    "all": Case(lambda T, x: T.all(x, 1), (bools(3, 4),)),
    "any": Case(lambda T, x: x.any(), (bools(3, 4),)),
    # layout
    "reshape": Case(lambda T, x: T.reshape(x, (4, 3)) + x.view(4, 3), (randn(3, 4),)),
    "transpose": Case(lambda T, x: T.transpose(x, 0, 2), (randn(2, 3, 4),)),
    "permute": Case(lambda T, x: x.permute(2, 0, 1), (randn(2, 3, 4),)),
    "expand": Case(lambda T, x: x.expand(3, 4), (randn(1, 4),)),
    "squeeze": Case(lambda T, x: T.squeeze(x, 1), (randn(3, 1, 4),)),
    "unsqueeze": Case(lambda T, x: T.unsqueeze(x, -1), (randn(3, 4),)),
    "repeat": Case(lambda T, x: x.repeat(2, 3), (randn(2, 3),)),
    "flip": Case(lambda T, x: T.flip(x, (0, 1)), (randn(3, 4),)),
    "roll": Case(lambda T, x: T.roll(x, 1, 0) + x.roll((2, -1), (0, 1)) + T.roll(x, 5),
                 (randn(3, 4),)),
    "cat": Case(lambda T, x, y: T.cat([x, y], dim=1), (randn(2, 3), randn(2, 4))),
    "stack": Case(lambda T, x, y: T.stack([x, y], 1), (randn(2, 3), randn(2, 3))),
    "tril": Case(lambda T, x: T.tril(x, 1), (randn(4, 4),)),
    "triu": Case(lambda T, x: x.triu(-1), (randn(4, 4),)),
    "getitem": Case(lambda T, x, i: x[1:, ::2] + x[i][:, ::2][:2], (randn(3, 4),
                                                                      ints(0, 3, 3))),
    "index_put": Case(_setitem, (randn(3, 4), randn(2))),
    "gather": Case(lambda T, x, i: T.gather(x, 1, i), (randn(3, 4), ints(0, 4, 3, 2))),
    "index_select": Case(lambda T, x, i: T.index_select(x, 1, i), (randn(3, 4), ints(0, 4, 5))),
    "index_add": Case(lambda T, x, i, s: x.index_add(1, i, s, alpha=2),
                      (randn(3, 4), ints(0, 4, 5), randn(3, 5))),
    "index_fill": Case(lambda T, x, i: x.index_fill(0, i, -2.0), (randn(3, 4), ints(-3, 3, 2))),
    "index_copy": Case(lambda T, x, i, s: x.index_copy(1, i, s),
                       (randn(3, 4), fixed([2, 0], np.int64), randn(3, 2))),
    "scatter": Case(lambda T, x, i, s: x.scatter(0, i, s),
                    (randn(3, 4), fixed([[2, 0, 1, 1], [1, 2, 0, 0]], np.int64), randn(2, 4))),
    "scatter_add": Case(lambda T, x, i, s: T.scatter_add(x, 1, i, s),
                        (randn(3, 4), ints(0, 4, 3, 6), randn(3, 6))),
    "scatter_reduce": Case(lambda T, x, i, s: x.scatter_reduce(1, i, s, "mean", include_self=False),
                           (randn(3, 4), ints(0, 4, 3, 6), randn(3, 6))),
    "take_along_dim": Case(lambda T, x, i: T.take_along_dim(x, i, dim=0),
                           (randn(3, 4), ints(-3, 3, 5, 1))),
    # contractions
    "matmul": Case(lambda T, x, y: T.matmul(x, y) + x.mm(y), (randn(3, 4), randn(4, 5))),
    "linear": Case(lambda T, x, w, b: _f(T, "linear")(x, w, b),
                   (randn(2, 4), randn(3, 4), randn(3))),
    "einsum": Case(lambda T, x, y: T.einsum("ij,kj->ik", x, y)    # and PyTorch's sublist form
                   + T.einsum(x, [0, 1], y, [30, 1], [30, 0]).t()
                   + T.einsum(x, [..., 1], y, [2, 1]), (randn(3, 4), randn(5, 4))),
    # factories (no inputs: values and dtypes)
    "full": Case(lambda T: T.full((2, 3), 1.5) + T.zeros(2, 3) + T.ones(3)),
    "arange": Case(lambda T: T.arange(1, 7, 2)),
    # losses
    "cross_entropy": Case(lambda T, x, t: _f(T, "cross_entropy")(x, t, label_smoothing=0.1),
                          (randn(4, 5), ints(0, 5, 4))),
    # class probabilities as the target: both inputs differentiable
    "soft_cross_entropy": Case(
        lambda T, x, t: _f(T, "cross_entropy")(x, t.softmax(1), label_smoothing=0.1),
        (randn(4, 5), randn(4, 5))),
    "nll_loss": Case(lambda T, x, t: _f(T, "nll_loss")(x, t, reduction="sum"),
                     (randn(4, 5), ints(0, 5, 4))),
    "mse_loss": Case(lambda T, x, y: _f(T, "mse_loss")(x, y), (randn(3, 4), randn(3, 4)),
                     no_grad=(1,)),
    "l1_loss": Case(lambda T, x, y: _f(T, "l1_loss")(x, y, reduction="sum"),
                    (randn(3, 4), randn(3, 4)), no_grad=(1,)),
    "smooth_l1_loss": Case(lambda T, x, y: _f(T, "smooth_l1_loss")(x, y, beta=0.5),
                           (randn(3, 4), randn(3, 4)), no_grad=(1,)),
    "huber_loss": Case(lambda T, x, y: _f(T, "huber_loss")(x, y, delta=0.7),
                       (randn(3, 4), randn(3, 4)), no_grad=(1,)),
    "binary_cross_entropy": Case(lambda T, p, y: _f(T, "binary_cross_entropy")(p, y),
                                 (unit(3, 4), unit(3, 4)), no_grad=(1,)),
    "binary_cross_entropy_with_logits": Case(
        lambda T, x, y, w: _f(T, "binary_cross_entropy_with_logits")(x, y, pos_weight=w),
        (randn(3, 4), unit(3, 4), positive(4)), no_grad=(1, 2)),
    "kl_div": Case(lambda T, x, y: _f(T, "kl_div")(x, y, reduction="batchmean"),
                   (randn(3, 4), unit(3, 4)), no_grad=(1,)),
    # nn layers' ops
    "one_hot": Case(lambda T, i: _f(T, "one_hot")(i, 5), (ints(0, 5, 2, 3),)),
    "embedding": Case(lambda T, i, w: _f(T, "embedding")(i, w), (ints(0, 5, 2, 3), randn(5, 4))),
    "scaled_dot_product_attention": Case(
        lambda T, q, k, v: _f(T, "scaled_dot_product_attention")(q, k, v, is_causal=True),
        (randn(2, 3, 4), randn(2, 3, 4), randn(2, 3, 4))),
    "conv": Case(lambda T, x, w, b: _f(T, "conv2d")(x, w, b, padding=1, stride=2),
                 (randn(2, 3, 6, 6), randn(4, 3, 3, 3), randn(4)), atol=1e-4),
    "max_pool": Case(lambda T, x: _f(T, "max_pool2d")(x, 2), (randn(2, 3, 6, 6),)),
    "max_pool_with_indices": Case(
        lambda T, x: _f(T, "max_pool2d")(x, 3, stride=2, return_indices=True),
        (randn(2, 3, 7, 7),)),
    "avg_pool": Case(lambda T, x: _f(T, "avg_pool2d")(x, 3, stride=2, padding=1),
                     (randn(2, 3, 6, 6),)),
    "adaptive_avg_pool": Case(lambda T, x: _f(T, "adaptive_avg_pool2d")(x, (4, 3)),
                              (randn(2, 3, 7, 6),)),
    "adaptive_max_pool": Case(lambda T, x: _f(T, "adaptive_max_pool2d")(x, (4, 3)),
                              (randn(2, 3, 7, 6),)),
    "adaptive_max_pool_with_indices": Case(
        lambda T, x: _f(T, "adaptive_max_pool2d")(x, 3, return_indices=True),
        (randn(2, 3, 7, 6),)),
    "local_response_norm": Case(lambda T, x: _f(T, "local_response_norm")(x, 3),
                                (randn(2, 5, 4, 4),), atol=1e-4),
    "interpolate": Case(lambda T, x: _f(T, "interpolate")(x, scale_factor=2),
                        (randn(1, 2, 3, 3),)),
    "pad": Case(lambda T, x: _f(T, "pad")(x, (1, 2, 0, 1), value=0.5), (randn(2, 3, 4),)),
    "batch_norm_train": Case(
        lambda T, x, m, v, w, b: _f(T, "batch_norm")(x, m, v, w, b, training=True),
        (randn(4, 3, 2), randn(3), positive(3), randn(3), randn(3)), no_grad=(1, 2),
        atol=1e-4),
    "batch_norm_eval": Case(
        lambda T, x, m, v, w, b: _f(T, "batch_norm")(x, m, v, w, b, training=False),
        (randn(4, 3, 2), randn(3), positive(3), randn(3), randn(3)), no_grad=(1, 2)),
    "layer_norm": Case(lambda T, x, w, b: _f(T, "layer_norm")(x, (4,), w, b),
                       (randn(3, 4), randn(4), randn(4)), atol=1e-4),
    "group_norm": Case(lambda T, x, w, b: _f(T, "group_norm")(x, 2, w, b),
                       (randn(2, 4, 3), randn(4), randn(4)), atol=1e-4),
    "normalize": Case(lambda T, x: _f(T, "normalize")(x, dim=1), (randn(3, 4),)),
    # structured control flow: PyTorch's reference is the plain Python `if` / `while`
    "cond": Case(lambda T, p, x: T.cond(p, lambda t: t.exp(), lambda t: t * 2, x),
                 (fixed(True, np.bool_), randn(3)), torch_call=_python_if),
    "while_loop": Case(lambda T, x: T.while_loop(lambda t: t.norm() > 1, lambda t: t / 2, x),
                       (positive(3, 4),), torch_call=_python_while),
    # graphnet.func.vmap: a `vmap` node in a compiled graph (compiler/vmap_trace.py)
    "vmap": Case(lambda T, x, w: T.func.vmap(lambda r: (r * w).sin().sum(0), in_dims=1)(x),
                 (randn(3, 4), randn(3))),
    # sorting and selection (tests/test_sorting.py: ties, NaN, compiled, searchsorted rows)
    "sort": Case(lambda T, x: T.sort(x, -2, descending=True), (randn(3, 4, 5),)),
    "trunc_divide": Case(lambda T, x, y: T.div(x, y, rounding_mode="trunc"),
                         (randn(3, 4), fixed([0.5, -0.75, 0.0, 2.0]))),
    "topk": Case(lambda T, x: x.topk(2, dim=1, largest=False), (randn(3, 4, 5),)),
    "kthvalue": Case(lambda T, x: T.kthvalue(x, 3, 0, keepdim=True), (randn(4, 5),)),
    "searchsorted": Case(lambda T, s, v: T.searchsorted(s, v, right=True),
                         (fixed([-1.0, 0.0, 0.5, 2.0]), randn(3, 4))),
}

# Ops with no parity case here: why, and the test that covers them instead (file, function).
ELSEWHERE: dict[str, tuple[str, str, str]] = {
    # random draws: PyTorch draws other numbers; tested for shape, range and seeding
    "normal": ("random", "tests/test_tensor_ops.py", "test_factories_and_seeding"),
    "uniform": ("random", "tests/test_tensor_ops.py", "test_factories_and_seeding"),
    "randint": ("random", "tests/test_tensor_ops.py", "test_factories_and_seeding"),
    "randperm": ("random", "tests/test_data.py", "test_shuffle_is_repeatable_under_manual_seed"),
    "rng_split": ("random", "tests/test_tensor_ops.py", "test_factories_and_seeding"),
    "dropout": ("random", "tests/test_compile.py",
                "test_dropout_masks_differ_per_step_and_match_dynamic_under_seed"),
    "channel_dropout": ("random", "tests/test_conv_pool.py",
                        "test_dropout2d_zeroes_whole_channels_dynamic_and_static"),
    # reached through modules, optimizers or the compiler, not a function or method
    "with_sharding": ("nn.parallel.DistributedDataParallel", "tests/test_sharding.py",
                      "test_mesh_training_equals_one_device"),
    "rnn_layer": ("nn.RNN", "tests/test_rnn.py", "test_parity_with_initial_states"),
    "gru_layer": ("nn.GRU", "tests/test_rnn.py", "test_parity_with_initial_states"),
    "lstm_layer": ("nn.LSTM", "tests/test_rnn.py", "test_parity_with_initial_states"),
    "sgd_update": ("optim.SGD", "tests/test_optim.py", "test_fixed_gradients_match_torch_every_step"),
    "adam_update": ("optim.Adam", "tests/test_optim.py",
                    "test_fixed_gradients_match_torch_every_step"),
    "rmsprop_update": ("optim.RMSprop", "tests/test_optim.py",
                       "test_fixed_gradients_match_torch_every_step"),
    "adagrad_update": ("optim.Adagrad", "tests/test_optim.py",
                       "test_fixed_gradients_match_torch_every_step"),
    "checked_parameters": ("distribution arguments, integer divisors",
                           "tests/test_random_arguments.py",
                           "test_compiled_calls_check_inputs_and_computed_values"),
    "checked_shrink_lambd": ("softshrink with a tensor threshold",
                             "tests/test_hunt49_shrink_threshold.py",
                             "test_a_bad_threshold_raises_pytorchs_error_in_every_mode"),
    "distribution_check": ("distributions' validate_args in compiled code",
                           "tests/test_static_refusals_hunt28.py",
                           "test_distribution_checks_raise_value_error_in_compiled_programs"),
    "anomaly_checked": ("detect_anomaly() in compiled backward", "tests/test_anomaly_detection.py",
                        "test_a_nan_from_a_backward_node_raises_and_leaves_the_parameters"),
    "constant": ("constant folding", "tests/passes/test_pass_constant_folding.py",
                 "test_small_known_values_fold_and_big_ones_do_not"),
    "detach": ("traced .detach()", "tests/test_static_autograd_rules.py",
               "test_detach_becomes_a_stop_gradient_node_only_where_needed"),
    "grad": ("traced backward()", "tests/test_static_autograd_rules.py",
             "test_detach_becomes_a_stop_gradient_node_only_where_needed"),
}


def _family_files() -> list[Path]:
    return sorted(Path(__file__).parent.glob("op_cases_*.py"))


def _merge_families() -> None:
    """Fold each tests/op_cases_<family>.py's CASES and ELSEWHERE into the tables above; a name
    defined twice is an error, not a silent override."""
    for path in _family_files():
        spec = importlib.util.spec_from_file_location(f"_op_cases_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module   # NOTE: dataclasses look their module up there
        spec.loader.exec_module(module)
        for table, extra in ((CASES, getattr(module, "CASES", {})),
                             (ELSEWHERE, getattr(module, "ELSEWHERE", {}))):
            # a family file may replace a generated pointwise case (its own input domain)
            twice = sorted(n for n in set(table) & set(extra) if n not in _GENERATED)
            assert not twice, f"{path.name} redefines {twice}"
            table.update(extra)


_merge_families()
