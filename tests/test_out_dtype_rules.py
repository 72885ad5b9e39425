"""`out=` dtypes as PyTorch accepts them: elementwise ops, most reductions, joins and
factories cast their result into `out`'s dtype where it can be cast; matrix products,
sorting, gathering, argmax, where ... require `out` to have exactly the result's dtype, with
PyTorch's message (compared by its first words). Also the dtype refusals of prelu, take,
bool ** bool, bincount's float64 weights and nn.Module.type. Eager and compiled."""

import numpy as np
import pytest
import torch

import graphnet


def _cases(T):
    f = T.tensor([[1.5, 2.5], [0.5, 3.0]])
    v = T.tensor([0.5, 0.25])
    i = T.tensor([[1, 0], [1, 0]])
    b = T.tensor([[True, False], [True, True]])
    long = T.empty(0, dtype=T.int64)
    return {
        "abs": lambda o: T.abs(f, out=o), "neg": lambda o: T.neg(f, out=o),
        "floor": lambda o: T.floor(f, out=o), "clamp": lambda o: T.clamp(f, 0, 1, out=o),
        "sin": lambda o: T.sin(f, out=o), "add": lambda o: T.add(f, f, out=o),
        "eq": lambda o: T.eq(f, f, out=o), "sigmoid": lambda o: T.sigmoid(f, out=o),
        "where": lambda o: T.where(b, f, f, out=o), "mm": lambda o: T.mm(f, f, out=o),
        "matmul": lambda o: T.matmul(f, f, out=o), "bmm": lambda o: T.bmm(f[None], f[None], out=o),
        "mv": lambda o: T.mv(f, v, out=o), "dot": lambda o: T.dot(v, v, out=o),
        "sum": lambda o: T.sum(f, 0, out=o), "mean": lambda o: T.mean(f, 0, out=o),
        "amax": lambda o: T.amax(f, 0, out=o), "argmax": lambda o: T.argmax(f, 0, out=o),
        "cumsum": lambda o: T.cumsum(f, 0, out=o), "cat": lambda o: T.cat([f, f], out=o),
        "sort": lambda o: T.sort(v, out=(o, long))[0],
        "sort_indices": lambda o: T.sort(v, out=(T.empty(0), o))[1],
        "topk": lambda o: T.topk(v, 1, out=(o, long))[0],
        "max_dim": lambda o: T.max(f, 0, out=(o, long))[0], "max_all": lambda o: T.max(f, out=o),
        "gather": lambda o: T.gather(f, 0, i, out=o),
        "index_select": lambda o: T.index_select(f, 0, T.tensor([0]), out=o),
        "take": lambda o: T.take(f, T.tensor([0]), out=o),
        "softmax": lambda o: T.softmax(f, 0, out=o), "std": lambda o: T.std(f, 0, out=o),
        "tril": lambda o: T.tril(f, out=o), "outer": lambda o: T.outer(v, v, out=o),
        "masked_select": lambda o: T.masked_select(f, b, out=o),
        "nonzero": lambda o: T.nonzero(f, out=o), "any": lambda o: T.any(f, 0, out=o),
        "searchsorted": lambda o: T.searchsorted(T.tensor([0.25, 0.5]), v, out=o),
        "tensordot": lambda o: T.tensordot(f, f, 1, out=o),
        "cummax": lambda o: T.cummax(f, 0, out=(o, long))[0],
        "nan_to_num": lambda o: T.nan_to_num(f, out=o),
        "linalg.norm": lambda o: T.linalg.norm(f, out=o),
        "linalg.vector_norm": lambda o: T.linalg.vector_norm(f, out=o),
        "inverse": lambda o: T.inverse(f, out=o), "zeros": lambda o: T.zeros(2, out=o),
    }


DTYPES = ["float16", "float32", "float64", "int32", "int64", "bool"]


def _outcome(fn, out):
    try:
        fn(out)
    except (RuntimeError, TypeError, NotImplementedError) as err:
        return type(err).__name__, " ".join(str(err).split()[:4])
    return "ok"


def test_out_dtypes_match_torch():
    # the casting functions (sin, add, mean ...) are here beside the exact ones on purpose
    for name in sorted(_cases(torch)):
        for dtype in DTYPES:
            expected = _outcome(_cases(torch)[name], torch.empty(0, dtype=getattr(torch, dtype)))
            got = _outcome(_cases(graphnet)[name],
                           graphnet.empty(0, dtype=getattr(graphnet, dtype)))
            assert got == expected, (name, dtype)


def test_out_dtypes_match_torch_compiled():
    for name, dtype in [("argmax", "int32"), ("abs", "float64"), ("mm", "float64"),
                        ("matmul", "float64"), ("sort", "float64"), ("where", "float64"),
                        ("sin", "float64"), ("sum", "int32")]:
        expected = _outcome(_cases(torch)[name], torch.empty(0, dtype=getattr(torch, dtype)))

        def run(out, name=name):
            return graphnet.compile(lambda: _cases(graphnet)[name](out))()

        assert _outcome(run, graphnet.empty(0, dtype=getattr(graphnet, dtype))) == expected, \
            (name, dtype)


def _modes(make):
    """make(T) under torch, graphnet eagerly and graphnet compiled: results or errors."""
    def outcome(call):
        try:
            r = call()
        except (RuntimeError, NotImplementedError, TypeError) as err:
            return type(err).__name__, str(err)
        return str(r.dtype).split(".")[-1], np.asarray(r.float().tolist()).tolist()

    return (outcome(lambda: make(torch)), outcome(lambda: make(graphnet)),
            outcome(lambda: graphnet.compile(lambda: make(graphnet))()))


REFUSALS = [
    lambda T: T.nn.functional.prelu(T.tensor([-1.0], dtype=T.float64), T.tensor([0.25])),
    lambda T: T.nn.functional.prelu(T.tensor([-1.0]), T.tensor([0.25], dtype=T.float16)),
    lambda T: T.nn.functional.prelu(T.tensor([-1.0, 2.0]), T.tensor([0.25])),
    lambda T: T.take(T.tensor([1.0, 2.0]), T.tensor([1], dtype=T.int32)),
    lambda T: T.take(T.tensor([1.0, 2.0]), T.tensor([1], dtype=T.uint8)),
    lambda T: T.take(T.tensor([1.0, 2.0]), T.tensor([1])),
    lambda T: T.tensor([True, False]) ** T.tensor([True, False]),
    lambda T: T.pow(True, T.tensor([True, False])),
    lambda T: T.tensor([2, 3]) ** T.tensor([True, False]),
    lambda T: T.tensor([True, False]) ** True,
    lambda T: T.bincount(T.tensor([0, 1, 1]), weights=T.tensor([1.0, 2.0, 3.0], dtype=T.float16)),
    lambda T: T.bincount(T.tensor([0, 1, 1]), weights=T.tensor([1.0, 2.0, 3.0],
                                                                dtype=T.bfloat16), minlength=3),
    lambda T: T.bincount(T.tensor([0, 1, 1]), weights=T.tensor([1, 2, 3], dtype=T.int32),
                         minlength=2),
    lambda T: T.bincount(T.tensor([0, 1, 1]), weights=T.tensor([1.0, 2.0, 3.0]), minlength=2),
]


def test_dtype_refusals_and_result_dtypes_match_torch():
    for index, make in enumerate(REFUSALS):
        expected, eager, static = _modes(make)
        assert eager == expected, index
        assert static == expected, index


def test_module_type_casts_every_parameter_and_buffer():
    for T in (torch, graphnet):
        bn = T.nn.BatchNorm1d(2)
        assert bn.type(T.float64) is bn
        dtypes = {k: str(v.dtype).split(".")[-1] for k, v in bn.state_dict().items()}
        assert set(dtypes.values()) == {"float64"}, dtypes   # num_batches_tracked too
        linear = T.nn.Linear(2, 2)
        linear.weight.grad = T.ones(2, 2)
        linear.type("torch.HalfTensor")
        assert str(linear.weight.grad.dtype).endswith("float16")
        assert type(linear.weight).__name__ == "Parameter"
        with pytest.raises(RuntimeError, match="requires gradients must be floating point"):
            T.nn.Linear(2, 2).type(T.int32)
    linear = graphnet.nn.Linear(2, 2).type(graphnet.DoubleTensor)
    step = graphnet.compile(lambda x: linear(x))
    assert step(graphnet.ones(1, 2, dtype=graphnet.float64)).dtype == graphnet.float64
