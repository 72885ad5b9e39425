"""The op table carries every name of an op: its functions, Tensor methods, in-place forms,
code-dump call and grad_fn name. These tests check that each name is real, is PyTorch's, and
is what graphnet uses."""

from __future__ import annotations

import numpy as np
import pytest
from parity import to_gn, to_torch, torch

import graphnet
from graphnet._ops import OPS
from graphnet._ops._table import camel_backward, defop
from graphnet.compiler.dumps.public_names import PUBLIC

# graphnet has these in-place forms and PyTorch does not (kept: removing them would break users)
GRAPHNET_ONLY = {"maximum_", "minimum_"}


def _resolve(root, path: str):
    for part in path.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_name_in_the_entry_exists_in_graphnet_and_in_pytorch(name):
    op = OPS[name]
    for path in op.functions:
        assert callable(_resolve(graphnet, path)), f"graphnet.{path}"
        assert callable(_resolve(torch, path)), f"torch.{path}"
    for method in op.methods + op.inplace:
        assert hasattr(graphnet.Tensor, method), f"Tensor.{method}"
        assert hasattr(torch.Tensor, method) or method in GRAPHNET_ONLY, f"torch.Tensor.{method}"


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.bind))
def test_bound_functions_and_methods_are_generated_from_the_entry(name):
    op = OPS[name]
    own = [f for f in op.functions if "." not in f]
    fn = getattr(graphnet, own[0])
    assert fn.__name__ == name and f"op `{name}`" in fn.__doc__
    assert all(getattr(graphnet, alias) is fn for alias in own)
    if getattr(fn, "__out_argument__", False):   # the function also takes out= (methods don't)
        fn = fn.__wrapped__
    assert all(getattr(graphnet.Tensor, m) is fn for m in op.methods)


def test_defaults_keep_most_entries_one_line():
    @defop("_names_probe", "elementwise", inplace=True)
    def probe(x):
        return x

    try:
        op = OPS["_names_probe"]
        assert (op.functions, op.methods, op.inplace) == (("_names_probe",), ("_names_probe",),
                                                          ("_names_probe_",))
        assert op.dump is None and op.bind is None and op.backward == "NamesProbeBackward0"
    finally:
        del OPS["_names_probe"]
    assert camel_backward("log_softmax") == "LogSoftmaxBackward0"


# (op, call) where graphnet's grad_fn is PyTorch's: the table's `backward` names
GRAD_FNS = {
    "add": lambda T, x, w: x + w, "exp": lambda T, x, w: x.exp(),
    "sum": lambda T, x, w: x.sum(), "matmul": lambda T, x, w: x.T @ w,
    "reshape": lambda T, x, w: x.view(8, 9), "transpose": lambda T, x, w: x.transpose(0, 1),
    "clone": lambda T, x, w: x.clone(), "pow": lambda T, x, w: x ** 2,
    "neg": lambda T, x, w: -x, "cast": lambda T, x, w: x.to(T.float16),
    "amax": lambda T, x, w: x.amax(), "linear": lambda T, x, w: T.nn.functional.linear(
        x, T.ones(5, 3), T.ones(5)),
    "log_softmax": lambda T, x, w: T.log_softmax(x, 1),
    "cross_entropy": lambda T, x, w: T.nn.functional.cross_entropy(x, T.tensor([0, 1, 2, 0] * 6)),
}


@pytest.mark.parametrize("name", sorted(GRAD_FNS))
def test_grad_fn_names_come_from_the_table_and_match_pytorch(name):
    x = np.random.default_rng(0).standard_normal((24, 3)).astype(np.float32)
    w = np.ones((24, 3), np.float32)
    g = GRAD_FNS[name](graphnet, to_gn(x, requires_grad=True), to_gn(w)).grad_fn
    t = GRAD_FNS[name](torch, to_torch(x, requires_grad=True), to_torch(w)).grad_fn
    assert g.name() == OPS[name].backward == type(t).__name__
    assert repr(g).startswith(f"<{OPS[name].backward} object at 0x")


def test_code_dumps_call_the_tables_dump_names():
    assert {op: entry.function for op, entry in PUBLIC.items()} == \
        {name: f"graphnet.{op.dump}" for name, op in OPS.items() if op.dump is not None}
    assert PUBLIC["relu"].function == "graphnet.nn.functional.relu"
    assert PUBLIC["exp"].function == "graphnet.exp"
    assert "reshape" not in PUBLIC   # graphnet.reshape(x, shape=...) is not its signature


def test_cumsum_is_a_scan_not_a_reduction():
    assert OPS["cumsum"].kind == "opaque"


def test_a_compiled_forward_on_the_tape_is_named_after_its_graph():
    # Its tape node is the whole compiled program, not an op of the table.
    model = graphnet.nn.Linear(3, 2)
    out = graphnet.compile(model)(graphnet.ones(4, 3))
    assert out.grad_fn.name() == "LinearBackward0"
    assert repr(out).endswith("grad_fn=<LinearBackward0>)")
    out.sum().backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), np.full((2, 3), 4.0))
