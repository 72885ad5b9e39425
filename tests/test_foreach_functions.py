"""torch._foreach_* (graphnet/_foreach.py) against PyTorch: every name, each operand kind
PyTorch takes (a number, a list of numbers, a list of tensors, one tensor), in place and
not, with autograd, and an EMA update inside a compiled step."""

import numpy as np
import pytest
import torch

import graphnet as gn
import graphnet._foreach as foreach

RNG = np.random.RandomState(0)
A = [RNG.uniform(0.2, 0.9, (2, 3)).astype(np.float32), RNG.uniform(0.2, 0.9, 4).astype(np.float32)]
B = [RNG.uniform(0.2, 0.9, (2, 3)).astype(np.float32), RNG.uniform(0.2, 0.9, 4).astype(np.float32)]


def _lists(lib, arrays):
    return [lib.tensor(a) for a in arrays]


def _numbers(result):
    if isinstance(result, (list, tuple)):
        return [np.asarray(r.detach().numpy() if hasattr(r, "detach") else r) for r in result]
    return result


def _compare(call):
    want_inputs = (_lists(torch, A), _lists(torch, B))
    got_inputs = (_lists(gn, A), _lists(gn, B))
    try:
        want = call(torch, *want_inputs)
    except (RuntimeError, TypeError):
        pytest.skip("PyTorch does not take this form")
    got = call(gn, *got_inputs)
    assert type(got) is type(want)
    for g, w in zip(_numbers(got), _numbers(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    for g, w in zip(got_inputs[0], want_inputs[0]):   # what the in-place forms wrote
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def test_every_foreach_name_exists():
    names = sorted(n for n in dir(torch) if n.startswith("_foreach_"))
    assert len(names) > 80
    assert [n for n in names if not hasattr(gn, n)] == []


@pytest.mark.parametrize("name", [n + s for n in foreach._UNARY for s in ("", "_")])
def test_unary(name):
    _compare(lambda lib, a, b: getattr(lib, f"_foreach_{name}")(a))


OTHERS = {"number": lambda lib, b: 0.5, "numbers": lambda lib, b: [0.5, 2.0],
          "tensors": lambda lib, b: b, "one tensor": lambda lib, b: lib.tensor(0.5)}


@pytest.mark.parametrize("other", list(OTHERS), ids=str)
@pytest.mark.parametrize("name", [n + s for n in foreach._BINARY for s in ("", "_")])
def test_binary(name, other):
    _compare(lambda lib, a, b: getattr(lib, f"_foreach_{name}")(a, OTHERS[other](lib, b)))


@pytest.mark.parametrize("name", ["add", "sub", "add_", "sub_"])
def test_alpha(name):
    _compare(lambda lib, a, b: getattr(lib, f"_foreach_{name}")(a, b, alpha=-2.0))


@pytest.mark.parametrize("kind", ["addcmul", "addcdiv", "addcmul_", "addcdiv_"])
@pytest.mark.parametrize("value", [1, 0.5, [0.5, -1.0], "tensor"], ids=str)
def test_addc(kind, value):
    def call(lib, a, b):
        v = lib.tensor([0.5, -1.0]) if value == "tensor" else value
        return getattr(lib, f"_foreach_{kind}")(a, b, b, v)

    _compare(call)


@pytest.mark.parametrize("weight", [0.25, [0.25, 0.75], "tensors"], ids=str)
@pytest.mark.parametrize("name", ["lerp", "lerp_"])
def test_lerp(name, weight):
    def call(lib, a, b):
        w = [lib.tensor(0.3), lib.tensor(0.6)] if weight == "tensors" else weight
        return getattr(lib, f"_foreach_{name}")(a, b, w)

    _compare(call)


@pytest.mark.parametrize("call", [
    lambda lib, a, b: lib._foreach_norm(a),
    lambda lib, a, b: lib._foreach_norm(a, 1),
    lambda lib, a, b: lib._foreach_norm(a, float("inf")),
    lambda lib, a, b: lib._foreach_powsum(a, 3),
    lambda lib, a, b: lib._foreach_max(a),
    lambda lib, a, b: lib._foreach_clone(a),
    lambda lib, a, b: lib._foreach_copy_(a, b),
    lambda lib, a, b: lib._foreach_zero_(a),
    lambda lib, a, b: lib._foreach_pow(2.0, a),
    lambda lib, a, b: lib._foreach_mm([x.reshape(-1, 1) for x in a], [y.reshape(1, -1) for y in b]),
], ids=["norm", "norm1", "norminf", "powsum", "max", "clone", "copy_", "zero_", "pow_base",
        "mm"])
def test_reductions_and_copies(call):
    _compare(call)


def test_in_place_returns_the_list_and_bad_lengths_raise_as_pytorch():
    a = _lists(gn, A)
    assert gn._foreach_add_(a, 1.0) is a
    for lib in (torch, gn):
        with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
            lib._foreach_add(_lists(lib, A), [1.0])
        with pytest.raises(RuntimeError, match="Tensor lists must have the same number"):
            lib._foreach_mul(_lists(lib, A), _lists(lib, B)[:1])
        with pytest.raises(RuntimeError, match="at least one tensor"):
            lib._foreach_exp([])


def test_out_of_place_records_autograd():
    grads = []
    for lib in (torch, gn):
        xs = [lib.tensor(a, requires_grad=True) for a in A]
        ys = lib._foreach_addcmul(lib._foreach_mul(xs, 3.0), xs, xs, 0.5)
        sum(y.sum() for y in ys).backward()
        grads.append([x.grad.numpy() for x in xs])
    for g, w in zip(*grads[::-1]):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_an_ema_update_in_a_compiled_step_matches_pytorch():
    def run(lib, compiled):
        model = lib.nn.Linear(3, 2)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(A[0]))
            model.bias.fill_(0.1)
        ema = [p.detach().clone() for p in model.parameters()]
        opt = lib.optim.SGD(model.parameters(), lr=0.5)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            loss.backward()
            opt.step()
            with lib.no_grad():
                lib._foreach_lerp_(ema, list(model.parameters()), 0.1)
            return loss

        fn = gn.compile(step) if compiled else step
        for i in range(3):
            fn(lib.tensor(B[0] + i))
        return [e.numpy() for e in ema]

    want = run(torch, False)
    for compiled in (False, True):
        for g, w in zip(run(gn, compiled), want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
