"""Compiled calls that must behave as the same Python code run eagerly, where a value that
compares equal, an unchanged key or a missing graph write used to reuse a wrong program:
-0.0 against 0.0, an argument's strides, Python's and NumPy's random generators, a
`manual_seed` inside the function, an in-place copy of a new tensor into captured state, and
the identity of a returned parameter or argument."""

import random

import numpy as np
import pytest
import torch

import graphnet
from graphnet import nn


def _three_ways(make):
    """[torch eager, graphnet eager, graphnet compiled] results of `make(lib, compiled)`."""
    return [make(torch, False), make(graphnet, False), make(graphnet, True)]


def test_minus_zero_argument_is_another_program():
    def run(lib, compiled):
        def f(x, s):
            return 1.0 / (x * s)
        g = graphnet.compile(f) if compiled else f
        x = lib.ones(2)
        return [g(x, 0.0).tolist(), g(x, -0.0).tolist(), g(x, 0.0).tolist()]

    want, eager, static = _three_ways(run)
    assert want == eager == static == [[np.inf] * 2, [-np.inf] * 2, [np.inf] * 2]


def test_a_nan_argument_compiles_once():
    f = graphnet.compile(lambda x, s: x + s)
    for _ in range(4):
        assert np.isnan(f(graphnet.ones(2), float("nan")).numpy()).all()
    assert f.explain()["graphs"] == 1


def test_a_module_attribute_set_to_minus_zero_recompiles():
    class Inverse(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = 0.0

        def forward(self, x):
            return 1.0 / (x * self.s)

    m = Inverse()
    f = graphnet.compile(lambda x: m(x))
    x = graphnet.ones(2)
    np.testing.assert_array_equal(f(x).numpy(), [np.inf, np.inf])
    m.s = -0.0
    np.testing.assert_array_equal(f(x).numpy(), [-np.inf, -np.inf])


def test_an_int_attribute_becoming_a_float_changes_the_result_dtype():
    class Times(nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 2

        def forward(self, x):
            return x * self.k

    m = Times()
    f = graphnet.compile(lambda x: m(x))
    x = graphnet.arange(3)
    assert f(x).dtype == graphnet.int64
    m.k = 2.0
    assert f(x).dtype == graphnet.float32 == m(x).dtype


def test_a_non_contiguous_argument_is_another_program():
    def run(lib, compiled):
        def flat(a):
            return a.view(-1) * 1
        f = graphnet.compile(flat) if compiled else flat
        base = lib.arange(12.).reshape(3, 4)
        first = f(base.t().contiguous()).tolist()
        try:
            f(base.t())
            return first, "computed"
        except RuntimeError as err:
            return first, "view size is not compatible" in str(err)

    want, eager, static = _three_ways(run)
    assert want == eager == static and want[1] is True


def test_strides_read_by_the_code_follow_the_argument():
    f = graphnet.compile(lambda a: (a.stride(), a.is_contiguous()))
    base = graphnet.arange(12.).reshape(3, 4)
    tb = torch.arange(12.).reshape(3, 4)
    for g, t in [(base.t(), tb.t()), (base.t().contiguous(), tb.t().contiguous()),
                 (base[:, ::2], tb[:, ::2]), (base, tb)]:
        assert f(g) == (t.stride(), t.is_contiguous())


def test_rows_of_one_tensor_share_a_program():
    """The storage offset is not part of the key: `data[i]` on each call compiles once."""
    f = graphnet.compile(lambda a: a * 2)
    data = graphnet.arange(12.).reshape(4, 3)
    for i in range(4):
        np.testing.assert_array_equal(f(data[i]).numpy(), np.arange(3.0 * i, 3.0 * i + 3) * 2)
    assert f.explain()["graphs"] == 1


@pytest.mark.parametrize("draw", ["random", "numpy", "generator"])
def test_python_and_numpy_random_numbers_are_drawn_on_every_call(draw):
    rng = np.random.default_rng(0)
    source = {"random": random.random, "numpy": lambda: np.random.rand(),
              "generator": lambda: rng.random()}[draw]

    def noisy(x):
        return x * source()

    def run(compiled):
        random.seed(0)
        np.random.seed(0)
        rng.bit_generator.state = np.random.default_rng(0).bit_generator.state
        f = graphnet.compile(noisy) if compiled else noisy
        x = graphnet.ones(1)
        values = [float(f(x)) for _ in range(3)]
        return values, source()

    eager = run(False)
    with pytest.warns(UserWarning, match="drew numbers"):
        static = run(True)
    assert static == eager
    assert len(set(eager[0])) == 3


def test_manual_seed_does_not_touch_numpy_as_in_torch():
    np.random.seed(5)
    want = np.random.rand()
    np.random.seed(5)
    graphnet.manual_seed(0)
    assert np.random.rand() == want


def _seeded_draws(lib, compiled):
    def noisy(x):
        lib.manual_seed(123)
        return x + lib.rand(3)
    f = graphnet.compile(noisy) if compiled else noisy
    x = lib.zeros(3)
    draws = [f(x).tolist() for _ in range(3)]
    return draws, lib.rand(2).tolist()


def test_manual_seed_inside_a_compiled_function_reseeds_on_every_call():
    graphnet.rand(1)        # the stream exists and has moved
    eager = _seeded_draws(graphnet, False)
    graphnet.rand(5)
    static = _seeded_draws(graphnet, True)
    assert eager == static
    assert eager[0][0] == eager[0][1] == eager[0][2]


def test_manual_seed_of_a_generator_used_first_inside_the_compiled_function():
    def run(compiled):
        gen = graphnet.Generator()

        def noisy(x):
            gen.manual_seed(7)
            return x + graphnet.rand(3, generator=gen)
        f = graphnet.compile(noisy) if compiled else noisy
        return [f(graphnet.zeros(3)).tolist() for _ in range(3)]

    eager, static = run(False), run(True)
    assert eager == static and eager[0] == eager[2]


def test_copying_a_new_tensor_into_captured_state_is_written_on_every_call():
    buf = graphnet.zeros(2)

    def f(x):
        buf.copy_(graphnet.tensor([1.0, 2.0]))
        buf.add_(1)
        return x + buf

    g = graphnet.compile(f)
    for _ in range(3):
        np.testing.assert_array_equal(g(graphnet.zeros(2)).numpy(), [2.0, 3.0])
        np.testing.assert_array_equal(buf.numpy(), [2.0, 3.0])
        buf.mul_(10)        # changed between calls: the next call writes it again


def test_a_returned_parameter_is_the_parameter():
    def run(lib, compiled):
        m = lib.nn.Linear(2, 1)
        with lib.no_grad():
            m.weight.fill_(1.0)
            m.bias.fill_(0.0)

        def get_w(x):
            return m.weight, m(x).sum()
        f = graphnet.compile(get_w) if compiled else get_w
        x = lib.ones(1, 2)
        w, _ = f(x)
        same = w is m.weight
        with lib.no_grad():
            w.mul_(3)
        _, y = f(x)
        return same, m.weight.detach().numpy().tolist(), float(y.detach())

    want, eager, static = _three_ways(run)
    assert want == eager == static == (True, [[3.0, 3.0]], 6.0)


def test_a_returned_argument_is_the_argument():
    def step(x, y):
        x.add_(1)
        return x, y * 2

    f = graphnet.compile(step)
    x, y = graphnet.zeros(2), graphnet.ones(2)
    out, doubled = f(x, y)
    assert out is x and doubled is not y
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])


def test_returned_grads_are_the_parameters_grads():
    def run(lib, compiled):
        m = lib.nn.Linear(1, 1, bias=False)
        with lib.no_grad():
            m.weight.fill_(1.0)
        opt = lib.optim.SGD(m.parameters(), lr=0.1)

        def fwd_bwd(x):
            opt.zero_grad()
            (m(x) ** 2).sum().backward()
            return [p.grad for p in m.parameters()]
        f = graphnet.compile(fwd_bwd) if compiled else fwd_bwd
        same = []
        for _ in range(3):
            grads = f(lib.ones(1, 1))
            same.append(grads[0] is m.weight.grad)
            for g in grads:
                g.mul_(0.0)         # scaling the gradients by hand before the step
            opt.step()
        return same, m.weight.detach().numpy().tolist()

    want, eager, static = _three_ways(run)
    assert want == eager == static == ([True] * 3, [[1.0]])


def test_a_kept_grad_follows_later_steps_without_set_to_none():
    def run(lib, compiled):
        m = lib.nn.Linear(1, 1, bias=False)
        with lib.no_grad():
            m.weight.fill_(1.0)
        opt = lib.optim.SGD(m.parameters(), lr=0.5)

        def step(x):
            opt.zero_grad(set_to_none=False)
            (m(x) ** 2).sum().backward()
            opt.step()
            return m.weight.grad
        f = graphnet.compile(step) if compiled else step
        first = f(lib.ones(1, 1) * 2)
        for _ in range(2):
            f(lib.ones(1, 1) * 2)
        return first is m.weight.grad, first.numpy().tolist()

    want, eager, static = _three_ways(run)
    assert want == eager == static


def test_a_tensor_returned_twice_is_one_object():
    def twice(x):
        y = x * 2
        return y, y

    f = graphnet.compile(twice)
    a, b = f(graphnet.ones(2))
    assert a is b
    a.add_(1)
    np.testing.assert_array_equal(b.numpy(), [3.0, 3.0])


class _Config:
    def __init__(self):
        self.temperature = 1.0


@pytest.mark.parametrize("holder", ["object", "list"])
def test_a_config_object_held_by_a_module_is_guarded(holder):
    class Head(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.cfg = cfg if holder == "object" else [cfg]

        def forward(self, x):
            cfg = self.cfg if holder == "object" else self.cfg[0]
            return x / cfg.temperature

    cfg = _Config()
    m = Head(cfg)
    f = graphnet.compile(m)
    x = graphnet.ones(2)
    np.testing.assert_array_equal(f(x).numpy(), [1.0, 1.0])
    cfg.temperature = 4.0
    np.testing.assert_array_equal(f(x).numpy(), [0.25, 0.25])


class _Scaler:
    def __init__(self):
        self.n = 0

    def __call__(self, x):
        self.n += 1
        return x * self.n


def test_a_counter_on_the_compiled_methods_instance_counts_every_call():
    s = _Scaler()
    f = graphnet.compile(s.__call__)
    with pytest.warns(UserWarning, match=r"self\.n: 1 -> 2"):
        values = [float(f(graphnet.ones(1))) for _ in range(4)]
    assert values == [1.0, 2.0, 3.0, 4.0] and s.n == 4


def test_a_counter_on_a_global_object_counts_every_call():
    from types import SimpleNamespace

    state = SimpleNamespace(step=0)

    def scaled(x):
        state.step += 1
        return x * state.step

    f = graphnet.compile(scaled)
    with pytest.warns(UserWarning, match="step"):
        assert [float(f(graphnet.ones(1))) for _ in range(3)] == [1.0, 2.0, 3.0]


def test_a_compiled_function_called_inside_another_joins_its_graph():
    inner = graphnet.compile(lambda a: a * 2)
    outer = graphnet.compile(lambda x: inner(x) + 1)
    np.testing.assert_array_equal(outer(graphnet.ones(2)).numpy(), [3.0, 3.0])
    model = nn.Linear(2, 1)
    fwd = graphnet.compile(model)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = fwd(x).sum()
        loss.backward()
        opt.step()
        return loss

    want = nn.Linear(2, 1)
    want.load_state_dict(model.state_dict())
    want_opt = graphnet.optim.SGD(want.parameters(), lr=0.1)
    train = graphnet.compile(step)
    for _ in range(2):
        train(graphnet.ones(3, 2))
        want_opt.zero_grad()
        want(graphnet.ones(3, 2)).sum().backward()
        want_opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), want.weight.detach().numpy())
