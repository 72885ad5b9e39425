"""The transforms added after the first six (AbsTransform, PowerTransform, SoftmaxTransform,
StickBreakingTransform, LowerCholeskyTransform, PositiveDefiniteTransform, ReshapeTransform,
IndependentTransform, CatTransform, StackTransform, CumulativeDistributionTransform,
CorrCholeskyTransform), the cat / stack / multinomial / corr_cholesky constraints, and
`biject_to` / `transform_to` against PyTorch: values, inverses, log-Jacobians and their
gradients (eagerly and compiled), shapes, domains, reprs and errors."""

import numpy as np
import pytest
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet
import graphnet.distributions as gd

RNG = np.random.default_rng(11)
VEC = RNG.standard_normal((2, 4)).astype(np.float32)
POS = RNG.uniform(0.5, 2.0, (2, 4)).astype(np.float32)
SQUARE = RNG.standard_normal((2, 3, 3)).astype(np.float32)


def _cases(T, D, lib):
    """name: (transform, input builder from a tensor of VEC's shape)."""
    return {
        "abs": (T.AbsTransform(), lambda x: x),
        "power": (T.PowerTransform(lib.tensor([0.5, 2.0, -1.5, 3.0])), lambda x: x.exp()),
        "power_scalar": (T.PowerTransform(2.5), lambda x: x.exp()),
        "softmax": (T.SoftmaxTransform(), lambda x: x),
        "stick_breaking": (T.StickBreakingTransform(), lambda x: x),
        "lower_cholesky": (T.LowerCholeskyTransform(), lambda x: x[:, :3, None] * x[:, None, 1:]),
        "positive_definite": (T.PositiveDefiniteTransform(),
                              lambda x: x[:, :3, None] * x[:, None, 1:]),
        "reshape": (T.ReshapeTransform((4,), (2, 2)), lambda x: x),
        "independent": (T.IndependentTransform(T.ExpTransform(), 1), lambda x: x),
        "cat": (T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)], dim=-1,
                               lengths=[1, 3]), lambda x: x),
        "cat_batch": (T.CatTransform([T.SigmoidTransform(), T.IndependentTransform(
            T.ExpTransform(), 1)], dim=0, lengths=[1, 1]), lambda x: x),
        "stack": (T.StackTransform([T.ExpTransform(), T.SigmoidTransform(), T.TanhTransform(),
                                    T.AffineTransform(0.5, -2.0)], dim=1), lambda x: x),
        "corr_cholesky": (T.CorrCholeskyTransform(), lambda x: x[:, :3]),
        "cdf": (T.CumulativeDistributionTransform(D.Normal(lib.tensor(0.5), lib.tensor(2.0))),
                lambda x: x),
    }


NAMES = list(_cases(gd.transforms, gd, graphnet))
NO_JACOBIAN = {"abs", "softmax", "lower_cholesky", "positive_definite"}   # as in PyTorch


def _apply(T, D, lib, name, x):
    t, build = _cases(T, D, lib)[name]
    x = build(x)
    y = t(x)
    out = [y, t.inv(y)]
    if name not in NO_JACOBIAN:
        out.append(t.log_abs_det_jacobian(x, y))
    return out


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", NAMES)
def test_values_inverses_jacobians_and_gradients(name, compiled):
    t_x, g_x = to_torch(VEC, requires_grad=True), to_gn(VEC, requires_grad=True)
    expected = _apply(torch.distributions.transforms, torch.distributions, torch, name, t_x)
    call = (lambda x: _apply(gd.transforms, gd, graphnet, name, x))
    actual = graphnet.compile(call)(g_x) if compiled else call(g_x)
    for k, (a, e) in enumerate(zip(actual, expected)):
        assert_close(a, e, atol=2e-5, rtol=2e-4, what=f"{name} output {k}")
    weights = [RNG.standard_normal(tuple(e.shape)).astype(np.float32) for e in expected]
    sum((e * to_torch(w)).sum() for e, w in zip(expected, weights)).backward()
    sum((a * to_gn(w)).sum() for a, w in zip(actual, weights)).backward()
    assert_close(g_x.grad, t_x.grad, atol=5e-5, rtol=5e-4, what=f"{name} grad")


@pytest.mark.parametrize("name", NAMES)
def test_shapes_domains_flags_and_reprs(name):
    ours, _ = _cases(gd.transforms, gd, graphnet)[name]
    theirs, _ = _cases(torch.distributions.transforms, torch.distributions, torch)[name]
    for attr in ("domain", "codomain"):
        a, e = getattr(ours, attr), getattr(theirs, attr)
        assert (type(a).__name__, a.event_dim, a.is_discrete) == \
            (type(e).__name__, e.event_dim, e.is_discrete), f"{name}.{attr}"
        assert repr(a) == repr(e)
    assert ours.bijective == theirs.bijective
    assert repr(ours) == repr(theirs)
    for shape in ((4,), (3, 4), (2, 3, 4)):
        for method in ("forward_shape", "inverse_shape"):
            try:
                expected = tuple(getattr(theirs, method)(torch.Size(shape)))
            except (ValueError, RuntimeError, IndexError):
                continue
            assert tuple(getattr(ours, method)(shape)) == expected, f"{name}.{method}{shape}"
    try:
        sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            _ = ours.sign
    else:
        assert_close(np.asarray(np_of(ours.sign) if hasattr(ours.sign, "shape") else
                                ours.sign, np.float32),
                     np.asarray(np_of(sign) if hasattr(sign, "shape") else sign, np.float32))


def test_equality_and_exports():
    T = gd.transforms
    assert T.AbsTransform() == T.AbsTransform() and T.SoftmaxTransform() != T.AbsTransform()
    assert T.PowerTransform(2.0) == T.PowerTransform(2.0) != T.PowerTransform(3.0)
    assert T.StickBreakingTransform() == T.StickBreakingTransform()
    assert gd.identity_transform is T.identity_transform
    for name in torch.distributions.transforms.__all__:
        assert hasattr(T, name) and name in T.__all__, name
    with pytest.raises(graphnet.TraceError, match="compiled function cannot read"):
        graphnet.compile(lambda e: T.PowerTransform(e) == T.PowerTransform(e * 1))(
            graphnet.tensor(2.0))


def test_constraints_cat_stack_multinomial():
    for C, lib in ((torch.distributions.constraints, torch),
                   (gd.constraints, graphnet)):
        x = lib.tensor([[1.0, -1.0, 0.5], [2.0, 3.0, -0.5]])
        cat = C.cat([C.positive, C.real, C.unit_interval], dim=1, lengths=[1, 1, 1])
        stack = C.stack([C.positive, C.real], dim=0)
        counts = C.multinomial(4)
        results = (cat.check(x), stack.check(x), counts.check(lib.tensor([[1.0, 3.0],
                                                                          [3.0, 2.0]])),
                   cat.event_dim, stack.event_dim, counts.event_dim, counts.is_discrete)
        if lib is torch:
            expected = results
    for a, e in zip(results, expected):
        assert np.array_equal(np.asarray(np_of(a) if hasattr(a, "shape") else a),
                              np.asarray(e.numpy() if hasattr(e, "numpy") else e))


def _constraints(C, lib):
    return [C.real, C.positive, C.nonnegative, C.greater_than(2.0), C.greater_than_eq(-1.0),
            C.less_than(1.5), C.unit_interval, C.interval(-1.0, 3.0),
            C.half_open_interval(0.0, 2.0), C.simplex, C.real_vector,
            C.independent(C.positive, 1), C.cat([C.positive, C.unit_interval], -1, [2, 2]),
            C.stack([C.positive, C.real, C.less_than(0.0), C.unit_interval], -1),
            C.lower_cholesky, C.positive_definite, C.corr_cholesky]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registries_match_torch(registry):
    x = VEC
    pairs = zip(_constraints(gd.constraints, graphnet),
                _constraints(torch.distributions.constraints, torch))
    for ours, theirs in pairs:
        try:
            expected = getattr(torch.distributions, registry)(theirs)
        except NotImplementedError as error:
            with pytest.raises(NotImplementedError, match=str(error)):
                getattr(gd, registry)(ours)
            continue
        t = getattr(gd, registry)(ours)
        assert repr(t) == repr(expected)
        xs = SQUARE if "Cholesky" in repr(t) or "Definite" in repr(t) else x
        y, e = t(to_gn(xs)), expected(to_torch(xs))
        assert_close(y, e, atol=2e-5, rtol=2e-4, what=f"{registry}({ours!r})")
        assert bool(ours.check(y).all())


def test_registry_errors_and_registration():
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        gd.biject_to(gd.constraints.boolean)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        gd.biject_to.register(3, lambda c: None)
    registry = type(gd.biject_to)()
    registry.register(gd.constraints.positive, lambda c: gd.transforms.SoftplusTransform())
    assert isinstance(registry(gd.constraints.greater_than(1.0)), gd.transforms.SoftplusTransform)


def test_structural_transform_errors_match_torch():
    for T, lib in ((torch.distributions.transforms, torch), (gd.transforms, graphnet)):
        errors = []
        for make in (lambda: T.ReshapeTransform((4,), (3,)),
                     lambda: T.ReshapeTransform((4,), (2, 2)).forward_shape((3,)),
                     lambda: T.CatTransform([T.ExpTransform()], 0, [1, 2]),
                     lambda: T.CatTransform([T.ExpTransform()], 0, [2])(lib.ones(3)),
                     lambda: T.StackTransform([T.ExpTransform()], 0)(lib.ones(2)),
                     lambda: T.StackTransform([T.ExpTransform()], 2)(lib.ones(2)),
                     lambda: T.StickBreakingTransform().forward_shape(())):
            with pytest.raises((ValueError, AssertionError)) as info:
                make()
            errors.append((info.type, str(info.value).replace("torch.Size", "Size")))
        if lib is torch:
            expected = errors
    assert [(t, m.replace("graphnet.Size", "Size")) for t, m in errors] == expected


def test_transformed_distributions_through_new_transforms():
    T, D = gd.transforms, gd
    cases = [
        lambda D, T, lib: D.TransformedDistribution(D.Normal(lib.zeros(2, 4), 1.0),
                                                    [T.ReshapeTransform((4,), (2, 2))]),
        lambda D, T, lib: D.TransformedDistribution(
            D.Normal(lib.zeros(4), 2.0), T.IndependentTransform(T.ExpTransform(), 1)),
        lambda D, T, lib: D.TransformedDistribution(
            D.Normal(lib.zeros(3, 4), 1.0), T.CumulativeDistributionTransform(
                D.Normal(lib.tensor(0.0), lib.tensor(1.5)))),
        lambda D, T, lib: D.TransformedDistribution(
            D.Normal(lib.zeros(2, 3), 1.0), T.StickBreakingTransform()),
    ]
    x = {0: VEC.reshape(2, 2, 2), 1: POS[0], 2: 1 / (1 + np.exp(-VEC[:, :3])),
         3: np.exp(VEC) / np.exp(VEC).sum(-1, keepdims=True)}
    for k, make in enumerate(cases):
        ours = make(D, T, graphnet)
        theirs = make(torch.distributions, torch.distributions.transforms, torch)
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape), k
        assert tuple(ours.event_shape) == tuple(theirs.event_shape), k
        value = x[k] if k != 2 else np.broadcast_to(x[k][:1, :1], (3, 4)).copy()
        assert_close(ours.log_prob(to_gn(value)), theirs.log_prob(to_torch(value)),
                     atol=2e-5, rtol=2e-4, what=f"transformed case {k}")
        assert tuple(ours.sample((5,)).shape) == tuple(theirs.sample((5,)).shape)
