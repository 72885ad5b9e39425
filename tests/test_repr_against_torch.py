"""Reprs, formatting and grad_fn names compared with PyTorch's as text: the same code runs
with `torch` and with `graphnet`, and only `graphnet.` is read as `torch.`."""

import pytest
import torch

import graphnet

F_CASES = "F = torch.nn.functional\n"


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    for lib in (torch, graphnet):
        lib.set_printoptions(profile="default")
        lib.set_default_dtype(lib.float32)


def _both(code: str):
    """`out` after running `code` with each library, graphnet's names read as torch's."""
    outs = []
    for lib in (torch, graphnet):
        scope = {"torch": lib, "nn": lib.nn}
        try:
            exec(code, scope)
            out = scope["out"]
        except Exception as error:   # the same error type is the same behaviour
            out = f"raised {type(error).__name__}"
        outs.append(out.replace("graphnet.", "torch."))
    return outs


def _same(code: str) -> str:
    expected, got = _both(code)
    assert got == expected
    return got


# ---- the suffix wraps to its own line past the line width ---------------------------------
@pytest.mark.parametrize("code", [
    "p = nn.Parameter(torch.tensor([-0.2437, -0.1159, 0.1243, 0.2620, 0.2752, 0.2790, 0.0629]))"
    "\nout = repr(p)",
    "out = repr(torch.ones(2, 12, dtype=torch.int32) * 100)",
    "out = repr(torch.ones(9, dtype=torch.float64) * 1.5)",
    "torch.set_printoptions(linewidth=20)\nout = repr(torch.arange(20.0, requires_grad=True))",
    "out = repr(torch.full((3, 9), 1.25, requires_grad=True) * 2)",
])
def test_a_suffix_past_the_line_width_goes_on_its_own_line(code):
    assert ",\n       " in _same(code)


# ---- the default dtype decides which dtype is shown ---------------------------------------
def test_under_a_float64_default_float32_is_named_and_float64_is_not():
    out = _same("torch.set_default_dtype(torch.float64)\n"
                "out = repr(torch.tensor([1.5])) + repr(torch.tensor([1.5], dtype=torch.float32))"
                " + repr(torch.zeros(0)) + repr(torch.zeros(0, dtype=torch.float32))")
    assert out == "tensor([1.5000])tensor([1.5000], dtype=torch.float32)tensor([])" \
        "tensor([], dtype=torch.float32)"


# ---- no edge items: '...' and the size --------------------------------------------------
@pytest.mark.parametrize("code, expected", [
    ("out = repr(torch.arange(12.0).reshape(3, 4))", "tensor([...], size=(3, 4))"),
    ("out = repr(torch.arange(3.0))", "tensor([0., 1., 2.], size=(3,))"),
    ("out = repr(torch.arange(24.0).reshape(2, 3, 4))", "tensor([...], size=(2, 3, 4))"),
])
def test_zero_edge_items_show_the_size(code, expected):
    assert _same("torch.set_printoptions(threshold=5, edgeitems=0)\n" + code) == expected


# ---- format() of a 0-d Parameter is its repr, as for any non-plain tensor ------------------
@pytest.mark.parametrize("code", [
    "p = nn.Parameter(torch.tensor(2.5))\nout = f'{p}'",
    "p = nn.Parameter(torch.tensor(2.5))\nout = format(p) + '{}'.format(p)",
    "p = nn.Parameter(torch.tensor(2.5))\nout = f'{p:.2f}'",
])
def test_a_zero_d_parameter_formats_as_its_repr(code, capsys):
    assert _same(code).startswith(("Parameter containing:", "raised TypeError"))
    # a plain 0-d tensor is still a number, eagerly and in compiled code
    assert _same("out = f'{torch.tensor(2.5):.2f}'") == "2.50"
    step = graphnet.compile(lambda x: print(f"{x.sum():.3f}"))
    step(graphnet.ones(2))
    step(graphnet.ones(3))
    assert capsys.readouterr().out == "2.000\n3.000\n"


# ---- Unflatten keeps the size as given ----------------------------------------------------
def test_unflatten_repr_shows_its_size_as_given():
    for size in ("torch.Size([2, 3])", "[2, 3]", "(2, 3)"):
        out = _same(f"m = nn.Unflatten(1, {size})\n"
                    f"out = repr(m) + repr(m(torch.ones(4, 6)).shape)")
        assert "unflattened_size=" + size in out


# ---- grad_fn names --------------------------------------------------------------------------
NAMED = [
    "x.sum(0)", "x.sum((0, 1))", "x.mean(1)", "x.mean((0, 1))", "2 ** x", "x ** x",
    "x.pow(torch.tensor(2.0))", "x.square()", "x.clamp(0, 1)", "x.clamp(min=0)",
    "x.clamp(torch.zeros(3))", "x.clamp(torch.zeros(3), torch.ones(3))", "x.clamp_min(0)",
    "x.clamp_max(torch.zeros(3))", "x.max(0)[0]", "x.max(0, keepdim=True)[0]", "x.min(1)[0]",
    "torch.max(x, 1).values", "x.amax(0)", "x.amin(0)", "x.amax()", "1 - x",
    "torch.rsub(x, y)", "x.masked_fill(x > 0, 0.0)", "x.masked_fill(x > 0, torch.tensor(0.0))",
    "x.norm()", "x.norm(dim=1)", "x.log1p()", "torch.bmm(x[None], y.T[None])",
    "torch.matmul(x[None], y.T[None])", "torch.matmul(x[0], y[0])", "x.mv(y[0])",
    "torch.matmul(x[0], y.T)", "x.half() * 2", "x.bfloat16() * 2", "2 - x.half()",
    "F.pad(x, (1, 1))", "F.pad(x[None], (1, 1), mode='reflect')",
    "F.pad(x[None, None], (1, 1, 1, 1), mode='replicate')",
    "F.linear(x, y)", "F.linear(x[0], y)", "F.linear(x[0], y, y[0, :2])",
    "F.linear(x[None], y)", "F.linear(x[None], y, y[0, :2])",
    "F.conv1d(x[None, :1], y[:1, None, :2])", "F.conv2d(x[None, None], y[None, None])",
    "F.batch_norm(x, None, None, training=True)",
    "F.batch_norm(x, torch.zeros(3), torch.ones(3))", "F.layer_norm(x, (3,))",
    "F.group_norm(x[None], 1)", "F.max_pool1d(x[None], 2)", "F.max_pool2d(x[None, None], 2)",
    "F.max_pool2d(x[None, None], 2, return_indices=True)[0]",
    "F.max_pool3d(x[None, None, None], (1, 1, 2))", "F.avg_pool1d(x[None], 2)",
    "F.avg_pool2d(x[None, None], 2)", "F.avg_pool3d(x[None, None, None], (1, 2, 2))",
]


@pytest.mark.parametrize("expr", NAMED)
def test_grad_fn_names_are_pytorchs(expr):
    code = (F_CASES + "x = torch.tensor([[1., -2., 3.], [4., 5., -6.]], requires_grad=True)\n"
            "y = torch.tensor([[0.5, 1., 2.], [1., 2., 3.]], requires_grad=True)\n"
            f"r = {expr}\nout = '|'.join([r.grad_fn.name(), type(r.grad_fn).__name__, "
            "repr(r).split('grad_fn=')[-1]])")
    _same(code)


@pytest.mark.parametrize("module", [
    "nn.Linear(4, 3, bias=False)(torch.ones(2, 4))", "nn.Linear(4, 3)(torch.ones(5, 2, 4))",
    "nn.Conv2d(1, 2, 3)(torch.ones(1, 1, 5, 5))", "nn.BatchNorm2d(1)(torch.rand(2, 1, 3, 3))",
    "nn.LayerNorm(4)(torch.rand(2, 4))", "nn.GroupNorm(1, 2)(torch.rand(2, 2, 3))",
    "nn.MaxPool2d(2)(torch.rand(1, 1, 4, 4).requires_grad_())",
    "nn.AvgPool2d(2)(torch.rand(1, 1, 4, 4).requires_grad_())",
])
def test_module_outputs_name_pytorchs_nodes(module):
    _same(f"out = {module}.grad_fn.name()")


def test_a_print_inside_a_compiled_function_shows_the_same_grad_fn_names(capsys):
    def show(x):
        print(x.mean(1), 1 - x, x.sum(0), 2 ** x, x.max(0)[0])
        return x.sum()

    x = graphnet.ones(2, 3, requires_grad=True)
    show(x)
    eager = capsys.readouterr().out
    graphnet.compile(show)(x)
    compiled = capsys.readouterr().out
    assert compiled == eager
    for name in ("MeanBackward1", "RsubBackward1", "SumBackward1", "PowBackward2",
                 "MaxBackward0"):
        assert name in eager
