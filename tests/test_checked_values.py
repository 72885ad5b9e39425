"""Out-of-range indices and class labels raise PyTorch's errors instead of becoming numbers
(JAX clamps a gather's index, drops a scatter's, wraps a negative one), eagerly and in
compiled programs (compiler/checks.py), and valid ones (ignore_index, negative indices
PyTorch accepts) still give PyTorch's numbers in both modes. A compiled call checks an index
it is given on the host before running (`input`), one it computes inside the program
(`computed`, here `i.clone()`)."""

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, torch

import graphnet
from graphnet import nn

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 3)).astype(np.float32)
SPATIAL = RNG.standard_normal((2, 3, 2, 2)).astype(np.float32)
X5 = np.arange(5.0, dtype=np.float32)
X34 = RNG.standard_normal((3, 4)).astype(np.float32)
X234 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
W52 = RNG.standard_normal((5, 2)).astype(np.float32)


def F(lib):
    return lib.nn.functional


def setitem(lib, x, i):
    y = x.clone()
    y[i] = 7.0
    return y


# name: (op checked, fn(lib, x, index), x, bad indices, good indices). `lib` is torch or graphnet.
CASES = {
    "cross_entropy": ("cross_entropy", lambda lib, x, i: F(lib).cross_entropy(x, i), LOGITS,
                      [[0, 1, -1, 1], [0, 1, 3, 1]], [[0, 1, -100, 1], [2, 1, 0, 0]]),
    "cross_entropy_options": (
        "cross_entropy",
        lambda lib, x, i: F(lib).cross_entropy(x, i, weight=lib.tensor([1.0, 2.0, 0.5]),
                                               label_smoothing=0.1, reduction="sum"),
        LOGITS, [[0, 1, 3, 1]], [[0, 1, -100, 2]]),
    "cross_entropy_ignore_minus_one": (
        "cross_entropy", lambda lib, x, i: F(lib).cross_entropy(x, i, ignore_index=-1),
        LOGITS, [[0, 1, -2, 1], [0, -100, 1, 1]], [[0, 1, -1, 1]]),
    "cross_entropy_spatial": ("cross_entropy", lambda lib, x, i: F(lib).cross_entropy(x, i),
                              SPATIAL, [[[[0, 1], [2, 3]]] * 2], [[[[0, 1], [2, -100]]] * 2]),
    "nll_loss": ("nll_loss", lambda lib, x, i: F(lib).nll_loss(F(lib).log_softmax(x, 1), i),
                 LOGITS, [[0, 1, -1, 1], [3, 1, 0, 0]], [[0, 1, -100, 1], [2, 2, 2, 2]]),
    "getitem": ("getitem", lambda lib, x, i: x[i], X5, [[1, 9], [-6]], [[1, -1], [-5, 4]]),
    "getitem_dim1": ("getitem", lambda lib, x, i: x[:, i], X34, [[4], [-5]], [[-4, 3]]),
    "getitem_pair": ("getitem", lambda lib, x, i: x[i, i], X34, [[3], [-4]], [[2, -1]]),
    "getitem_ellipsis": ("getitem", lambda lib, x, i: x[..., i], X234, [[4]], [[-1, 0]]),
    "setitem": ("index_put", setitem, X5, [[9], [-6]], [[-1, 2]]),
    "gather": ("gather", lambda lib, x, i: lib.gather(x, 1, i), X34,
               [[[0], [4], [0]], [[0], [-1], [0]]], [[[0], [3], [2]]]),
    "embedding": ("embedding", lambda lib, x, i: F(lib).embedding(i, x), W52,
                  [[1, 9], [-1]], [[0, 4, 4]]),
}
BAD = [(name, i) for name, case in CASES.items() for i in range(len(case[3]))]
GOOD = [(name, i) for name, case in CASES.items() for i in range(len(case[4]))]


def run_torch(name, index):
    _, fn, x, _, _ = CASES[name]
    return fn(torch, torch.from_numpy(x), torch.tensor(index))


def compiled(name, where="input", **options):
    fn = CASES[name][1]
    if where == "computed":
        return graphnet.compile(lambda x, i: fn(graphnet, x, i.clone()), **options)
    return graphnet.compile(lambda x, i: fn(graphnet, x, i), **options)


def checked_where(step) -> str:
    artifact = step.compiled.artifacts[-1]
    return "computed" if artifact.check_sites else "input" if artifact.precheck else "nowhere"


def torch_error(name, index) -> type:
    with pytest.raises((IndexError, RuntimeError)) as info:
        run_torch(name, index)
    return info.type


@pytest.mark.parametrize("name,which", BAD)
def test_dynamic_raises_like_torch(name, which):
    _, fn, x, bad, _ = CASES[name]
    expected = torch_error(name, bad[which])
    with pytest.raises(expected):
        fn(graphnet, graphnet.tensor(x), graphnet.tensor(bad[which]))


@pytest.mark.parametrize("where", ["input", "computed"])
@pytest.mark.parametrize("name,which", BAD)
def test_static_raises_with_op_and_source_line(name, which, where):
    op, fn, x, bad, good = CASES[name]
    expected = torch_error(name, bad[which])
    step = compiled(name, where)
    x = graphnet.tensor(x)
    step(x, graphnet.tensor(good[0]))   # compiled on valid labels: the bad call reuses it
    assert checked_where(step) == where
    with pytest.raises(expected) as info:
        step(x, graphnet.tensor(bad[which]))
    assert f"`{op}` at " in str(info.value) and "test_checked_values.py:" in str(info.value)
    assert_close(step(x, graphnet.tensor(good[0])), run_torch(name, good[0]), what=name)


@pytest.mark.parametrize("name,which", GOOD)
def test_valid_indices_give_torch_numbers_in_both_modes(name, which):
    _, fn, x, _, good = CASES[name]
    expected = run_torch(name, good[which])
    assert_close(fn(graphnet, graphnet.tensor(x), graphnet.tensor(good[which])), expected,
                 what=f"{name} dynamic")
    for where in ("input", "computed"):
        assert_close(compiled(name, where)(graphnet.tensor(x), graphnet.tensor(good[which])),
                     expected, what=f"{name} static, index {where}")


@pytest.mark.parametrize("where", ["input", "computed"])
@pytest.mark.parametrize("name", list(CASES))
def test_checks_false_compiles_no_check(name, where):
    _, _, x, bad, _ = CASES[name]
    step = compiled(name, where, checks=False)
    step(graphnet.tensor(x), graphnet.tensor(bad[0]))   # JAX's clamped numbers, no error
    assert checked_where(step) == "nowhere"


def test_static_integer_index_is_checked_too():
    # x[i] with a 0-d integer tensor becomes a static index; JAX would clamp it as well.
    x = graphnet.arange(5.0)
    with pytest.raises(IndexError, match="index 9 is out of bounds for dimension 0"):
        x[graphnet.tensor(9)]


def test_first_failing_op_in_program_order_is_reported():
    def two(x, i, j):
        return x[j].sum() + graphnet.gather(x, 0, i).sum()

    step = graphnet.compile(two)
    x = graphnet.arange(5.0)
    with pytest.raises(IndexError, match="`getitem`"):
        step(x, graphnet.tensor([7]), graphnet.tensor([8]))


# ---- training steps: a failed check writes nothing back ------------------------------------
def models():
    graphnet.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    copy_torch_params(t, g)
    return g, t


X = RNG.standard_normal((6, 4)).astype(np.float32)
Y_GOOD = np.array([0, 1, 2, 0, 1, 2])
Y_BAD = np.array([0, 1, -1, 0, 1, 2])


@pytest.mark.parametrize("where", ["input", "computed"])
@pytest.mark.parametrize("mode", ["static", "plan"])
def test_failed_training_step_leaves_parameters_and_momentum_as_they_were(mode, where):
    g, t = models()
    g_opt = graphnet.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)

    def g_step(x, y):
        g_opt.zero_grad()
        y = y.clone() if where == "computed" else y
        loss = graphnet.nn.functional.cross_entropy(g(x), y)
        loss.backward()
        g_opt.step()
        return loss

    step = graphnet.compile(g_step, mode=mode)
    x = graphnet.tensor(X)
    for _ in range(3):   # past the state-creating first trace, so the program donates
        step(x, graphnet.tensor(Y_GOOD))
    assert checked_where(step) == where
    before = [p.detach().clone() for p in g.parameters()]
    grads = [p.grad.detach().clone() for p in g.parameters()]
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        step(x, graphnet.tensor(Y_BAD))
    for p, b, gr in zip(g.parameters(), before, grads, strict=True):
        assert_close(p, b, atol=0, rtol=0, what="parameter after a failed step")
        assert_close(p.grad, gr, atol=0, rtol=0, what="grad after a failed step")
    step(x, graphnet.tensor(Y_GOOD))
    for _ in range(4):
        t_opt.zero_grad()
        torch.nn.functional.cross_entropy(t(torch.from_numpy(X)), torch.tensor(Y_GOOD)).backward()
        t_opt.step()
    for p, q in zip(g.parameters(), t.parameters(), strict=True):
        assert_close(p, q, atol=1e-5, what="four good steps, one failed between them")


@pytest.mark.parametrize("where", ["input", "computed"])
def test_a_failed_first_step_creates_no_state(where):
    """As in PyTorch, which raised before the step: no momentum buffers (graphnet kept the
    ones its trace created, NaN, until tests/test_failed_first_step.py)."""
    g, _ = models()
    opt = graphnet.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)

    @graphnet.compile
    def step(x, y):
        opt.zero_grad()
        y = y.clone() if where == "computed" else y
        graphnet.nn.functional.cross_entropy(g(x), y).backward()
        opt.step()

    with pytest.raises(IndexError):
        step(graphnet.tensor(X), graphnet.tensor(Y_BAD))
    assert len(opt.state) == 0


def test_gather_inside_a_differentiated_region_is_checked():
    g, _ = models()

    @graphnet.compile
    def loss_of(x, i):
        loss = graphnet.gather(g(x), 1, i).sum()
        loss.backward()
        return loss

    i_good = graphnet.tensor(Y_GOOD[:, None])
    loss_of(graphnet.tensor(X), i_good)
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1 with size 3"):
        loss_of(graphnet.tensor(X), graphnet.tensor(np.full((6, 1), 3)))


def test_compiled_forward_with_a_check_still_joins_the_eager_tape():
    g, _ = models()
    forward = graphnet.compile(lambda x, i: g(x)[:, i].sum())
    forward(graphnet.tensor(X), graphnet.tensor([2, -1])).backward()
    assert g[0].weight.grad is not None
    with pytest.raises(IndexError):
        forward(graphnet.tensor(X), graphnet.tensor([3]))


# ---- hoisted inference programs keep their checks --------------------------------------------
class Lookup(nn.Module):
    def __init__(self, rows):
        super().__init__()
        self.table = nn.Embedding(5, 4)
        self.rows = rows          # a captured index tensor: its lookup is state-only work

    def forward(self, i):
        return self.table(i) + self.table.weight[self.rows].sum()


def test_hoisted_program_checks_prologue_and_main():
    model = Lookup(graphnet.tensor([0, 4]))
    forward = graphnet.compile(model)
    with graphnet.no_grad():
        forward(graphnet.tensor([1, 2]))
        assert forward.compiled.artifacts[-1].split is not None
        with pytest.raises(IndexError, match="index out of range in self"):
            forward(graphnet.tensor([1, 5]))
        model.rows = graphnet.tensor([0, 7])   # read by the prologue: fails on every call
        forward = graphnet.compile(model)
        for _ in range(2):
            with pytest.raises(IndexError, match="index 7 is out of bounds"):
                forward(graphnet.tensor([1, 2]))


def test_checks_cost_benchmark_runs_both_variants():
    from graphnet.runtime import bench

    (result,) = bench.checks_cost(["mlp"], steps=1, rounds=1)
    assert set(result.step_s) == {"static", "static-nochecks"}
    assert result.ratio("static", "static-nochecks") > 0
    assert result.compile_cost["static-nochecks"]["xla_s"] > 0


# ---- indices computed from constants: never folded with JAX's clamping -----------------------
def _labels_from_constants(x, scale):
    return nn.functional.cross_entropy(graphnet.zeros(2, 3), graphnet.arange(2) * scale) + x


def _gather_from_constants(x, scale):
    return graphnet.gather(graphnet.ones(1, 3), 1, graphnet.arange(2).unsqueeze(0) * scale) \
        .sum() + x


def _getitem_from_constants(x, scale):
    return x + graphnet.arange(5.)[graphnet.arange(3) * scale].sum()


@pytest.mark.parametrize("fn, bad", [(_labels_from_constants, 5), (_gather_from_constants, 7),
                                     (_getitem_from_constants, 4)])
def test_a_checked_op_on_compile_time_constants_raises_like_eager(fn, bad):
    x = graphnet.zeros(1)
    good = 1
    np.testing.assert_allclose(graphnet.compile(fn)(x, good).numpy(), fn(x, good).numpy())
    with pytest.raises((IndexError, RuntimeError)) as eager:
        fn(x, bad)
    with pytest.raises(type(eager.value)) as compiled:
        graphnet.compile(fn)(x, bad)
    assert str(compiled.value).splitlines()[0] == str(eager.value)


# ---- checked ops inside cond / while_loop branches: refused, never clamped silently ----------
def _index_in_branch(x, idx):
    return graphnet.cond(x.sum() > 0, lambda a, i: a[i], lambda a, i: -a[i], x, idx)


def _labels_in_loop_body(x, y):
    def body(acc, a, t):
        return acc + nn.functional.cross_entropy(a, t), a, t
    return graphnet.while_loop(lambda acc, a, t: acc < 1.0, body, (x.sum() * 0, x, y))[0]


@pytest.mark.parametrize("fn, args, op", [
    (_index_in_branch, (graphnet.arange(5.), graphnet.tensor([1, 9])), "getitem"),
    (_labels_in_loop_body, (graphnet.zeros(2, 3), graphnet.tensor([0, 7])), "cross_entropy"),
])
def test_a_checked_op_reading_tensors_inside_a_branch_is_refused(fn, args, op):
    with pytest.raises((IndexError, RuntimeError)):
        fn(*args)                                   # eagerly: PyTorch's error
    with pytest.raises(graphnet.TraceError, match=rf"`{op}` at .*test_checked_values.py:\d+ "
                                                  r"reads indices or labels inside a graphnet"):
        graphnet.compile(fn)(*args)


def test_literal_indices_in_a_branch_and_checks_off_still_compile():
    x = graphnet.arange(5.)

    def literal(a):
        return graphnet.cond(a.sum() > 0, lambda b: b[0] + b[1:3].sum(), lambda b: -b[-1], a)

    assert graphnet.compile(literal)(x).item() == literal(x).item() == 3.0
    idx = graphnet.tensor([1, 2])
    unchecked = graphnet.compile(_index_in_branch, checks=False)(x, idx)
    np.testing.assert_array_equal(unchecked.numpy(), _index_in_branch(x, idx).numpy())


def test_a_label_tensor_changed_in_place_is_checked_again():
    """A compiled call skips the host check for the very label arrays that passed last time
    (a JAX array never changes); writing into the tensor makes a new array, checked again."""
    logits = graphnet.tensor(LOGITS)
    run = graphnet.compile(lambda x, y: F(graphnet).cross_entropy(x, y), mode="static")
    y = graphnet.tensor([0, 1, 2, 1])
    for _ in range(3):
        run(logits, y)
    y[2] = 3
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        run(logits, y)
    y[2] = 0
    expected = F(torch).cross_entropy(torch.tensor(LOGITS), torch.tensor([0, 1, 0, 1]))
    assert_close(run(logits, y), expected, what="after the fix")


def test_eager_checks_skip_only_what_passed_for_the_same_op_and_shapes():
    """Eagerly too, the label and index arrays that passed an op's check are not checked
    again; an in-place write (a new array), fewer classes or a smaller source are."""
    logits = graphnet.tensor(LOGITS)
    y = graphnet.tensor([0, 1, 2, 1])
    for _ in range(3):
        F(graphnet).cross_entropy(logits, y)
    y[2] = 3
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F(graphnet).cross_entropy(logits, y)
    y[2] = 2
    F(graphnet).cross_entropy(logits, y)
    with pytest.raises(IndexError, match="Target 2 is out of bounds"):
        F(graphnet).cross_entropy(logits[:, :2], y)   # the same labels, two classes
    index = graphnet.tensor([0, 3])
    source = graphnet.arange(8.0).reshape(4, 2)
    for _ in range(2):
        graphnet.index_select(source, 0, index)
    with pytest.raises(IndexError, match="index out of range in self"):
        graphnet.index_select(source[:3], 0, index)   # the same index, three rows


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("shape", [(3,), (3, 2), (2, 2, 3), (2, 2, 2, 3)])
def test_index_select_out_of_range_raises_torchs_error_for_each_dimension(shape, compiled):
    """PyTorch's index_select says IndexError 'index out of range in self' along every
    dimension but 1, where its kernel raises RuntimeError 'INDICES element is out of DATA
    bounds' (graphnet said the latter for all)."""
    for dim in range(-len(shape), len(shape)):
        for bad in (shape[dim], -1):
            errors = []
            for lib in (torch, graphnet):
                x = lib.arange(float(np.prod(shape))).reshape(*shape)
                select = (lambda a, i, d=dim: lib.index_select(a, d, i))
                if lib is graphnet and compiled:
                    select = graphnet.compile(select)
                with pytest.raises((IndexError, RuntimeError)) as caught:
                    select(x, lib.tensor([0, bad]))
                errors.append((type(caught.value), str(caught.value).splitlines()[0]))
            assert errors[1] == errors[0], (shape, dim, bad)


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("op", ["index_add", "index_copy"])
def test_index_add_and_copy_out_of_range_raise_torchs_error_for_each_dimension(op, compiled):
    """PyTorch's index_add raises IndexError 'index out of range in self' for a 1-d input
    and along a middle dimension, RuntimeError with the bounds along the first and the last
    (graphnet raised the RuntimeError everywhere); index_copy an IndexError everywhere."""
    for shape in [(3,), (3, 2), (2, 3, 2), (2, 2, 3, 2)]:
        for dim in range(len(shape)):
            source_shape = list(shape)
            source_shape[dim] = 2
            errors = []
            for lib in (torch, graphnet):
                call = (lambda x, i, s, d=dim: getattr(x, op)(d, i, s))
                if lib is graphnet and compiled:
                    call = graphnet.compile(call)
                with pytest.raises((IndexError, RuntimeError)) as caught:
                    call(lib.zeros(*shape), lib.tensor([0, shape[dim]]),
                         lib.ones(*source_shape))
                errors.append((type(caught.value), str(caught.value).splitlines()[0]))
            assert errors[1] == errors[0], (shape, dim)
