"""graphnet.func against torch.func where they differed (session 24): functional_call on
parametrized modules (the given `weight` goes through `right_inverse`, as PyTorch's
attribute swap does), vector_to_parameters sharing storage with the vector, vmap leaving no
batch tracer behind when it refuses a write, jvp's tangent dtype, and PyTorch's refusals
(forward-mode jacobian without vectorize, non-float outputs of vjp/jacrev, backward() inside
a transform). Each case runs in torch 2.13 and graphnet; eagerly and compiled where the
feature runs compiled."""

import numpy as np
import pytest
from parity import assert_close, np_of, torch

import graphnet

W = np.array([[0.1, -0.4, 0.3], [0.5, 0.2, -0.2]], np.float32)
X = np.array([[1.0, 2.0, -1.0], [0.5, -0.3, 0.2]], np.float32)
LINEAR = {"weight": np.array([[-0.3, 0.5, 0.1], [0.2, 0.4, -0.6]], np.float32),
          "bias": np.array([0.25, -0.5], np.float32)}


def _linear(lib, kind):
    m = lib.nn.Linear(3, 2)
    m.load_state_dict({k: lib.tensor(v) for k, v in LINEAR.items()})
    if kind == "weight_norm":
        lib.nn.utils.parametrizations.weight_norm(m)
    elif kind == "spectral_norm":
        lib.nn.utils.parametrizations.spectral_norm(m)
        norm = m.parametrizations.weight[0]   # the same power-iteration start in both
        with lib.no_grad():
            norm._u.copy_(lib.tensor([0.6, 0.8]))
            norm._v.copy_(lib.tensor([0.6, 0.0, 0.8]))
    elif kind == "halved":
        class Halved(lib.nn.Module):
            def forward(self, x):
                return x * 2

            def right_inverse(self, x):
                return x / 2

        lib.nn.utils.parametrize.register_parametrization(m, "weight", Halved())
    return m


def _state(m):
    return {k: np_of(v) for k, v in m.state_dict().items()}


def _check_state(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        assert_close(ours[key], theirs[key], atol=1e-5, what=key)


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm", "halved"])
def test_functional_call_given_weight_of_parametrized_module(kind, compiled):
    """The call computes with forward(right_inverse(W)) (W itself for weight_norm; W / sigma
    for spectral_norm, whose `_u`/`_v` move on every read), and the originals are assigned
    back the same way afterwards. Before, the given weight was silently ignored."""
    results = {}
    for lib in (torch, graphnet):
        m = _linear(lib, kind)

        def call(w, x, m=m, lib=lib):
            return lib.func.functional_call(m, {"weight": w}, (x,))

        fn = graphnet.compile(call) if (compiled and lib is graphnet) else call
        outs = [np_of(fn(lib.tensor(W * scale), lib.tensor(X))) for scale in (1.0, 2.0)]
        results[lib] = outs, _state(m)
    (ours, our_state), (theirs, their_state) = results[graphnet], results[torch]
    for a, b in zip(ours, theirs):
        assert_close(a, b, atol=1e-5)
    _check_state(our_state, their_state)
    if kind == "weight_norm":   # computes with W itself
        assert_close(ours[0], X @ W.T + LINEAR["bias"], atol=1e-5)


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm", "halved"])
def test_functional_call_given_originals(kind):
    results = {}
    for lib in (torch, graphnet):
        m = _linear(lib, kind)
        plist = m.parametrizations.weight
        given = {"parametrizations.weight.original": lib.tensor(W)} if hasattr(plist, "original") \
            else {"parametrizations.weight.original0": lib.ones(2, 1),
                  "parametrizations.weight.original1": lib.tensor(W)}
        out = lib.func.functional_call(m, given, (lib.tensor(X),))
        results[lib] = np_of(out), _state(m)
    assert_close(results[graphnet][0], results[torch][0], atol=1e-5)
    _check_state(results[graphnet][1], results[torch][1])


def test_functional_call_weight_without_right_inverse_raises_and_keeps_module():
    for lib in (torch, graphnet):
        m = _linear(lib, None)

        class Doubled(lib.nn.Module):
            def forward(self, x):
                return x * 2

        lib.nn.utils.parametrize.register_parametrization(m, "weight", Doubled())
        with pytest.raises(RuntimeError, match="parametrization Doubled does not implement "
                                               "right_inverse"):
            lib.func.functional_call(m, {"bias": lib.zeros(2), "weight": lib.tensor(W)},
                                     (lib.tensor(X),))
        assert_close(np_of(m.bias), LINEAR["bias"])   # the bias swapped in first is back
        assert_close(np_of(m.parametrizations.weight.original), LINEAR["weight"])


def test_backward_after_functional_call_of_weight_norm_raises_as_torch():
    """PyTorch assigns the originals with set_, an in-place op: the backward of the call
    finds them modified. graphnet's `.data =` swap made it mix old and new values."""
    for lib in (torch, graphnet):
        m = _linear(lib, "weight_norm")
        w = lib.tensor(W, requires_grad=True)
        out = lib.func.functional_call(m, {"weight": w}, (lib.tensor(X),))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_functional_call_writes_the_modules_values_back_into_the_dict():
    """torch.func.functional_call updates the caller's dict with what the module holds
    after the call (a buffer the forward reassigned); errors of the dict argument."""
    seen = {}
    for lib in (torch, graphnet):
        class Counter(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("count", lib.zeros(()))

            def forward(self, x):
                self.count = self.count + 1
                return x + self.count

        m, given = Counter(), {"count": lib.zeros(())}
        out = lib.func.functional_call(m, given, lib.ones(()))
        seen[lib] = (float(out), float(m.count), float(given["count"]))
        with pytest.raises(ValueError, match=r"\['count'\] appeared in multiple dictionaries"):
            lib.func.functional_call(m, ({"count": lib.zeros(())}, {"count": lib.zeros(())}),
                                     lib.ones(()))
        with pytest.raises(ValueError, match="Expected parameter_and_buffer_dicts to be a "
                                             "dict, or a list/tuple of dicts"):
            lib.func.functional_call(m, 3, lib.ones(()))
    assert seen[graphnet] == seen[torch] == (2.0, 0.0, 1.0)


# ---- vector_to_parameters ----------------------------------------------------------------
def test_vector_to_parameters_shares_storage_with_the_vector():
    seen = {}
    for lib in (torch, graphnet):
        m = lib.nn.Linear(2, 1)
        vec = lib.arange(3.0)
        lib.nn.utils.vector_to_parameters(vec, m.parameters())
        vec[0] = 100.0                  # a write to the vector reaches the weight
        with lib.no_grad():
            m.bias.mul_(10)             # a write to a parameter reaches the vector
        assert m.weight.is_leaf and m.weight.requires_grad
        m(lib.tensor([[1.0, 2.0]])).sum().backward()
        seen[lib] = [np_of(t).tolist() for t in (m.weight, m.bias, vec, m.weight.grad)]
    assert seen[graphnet] == seen[torch] == [[[100.0, 1.0]], [20.0], [100.0, 1.0, 20.0],
                                             [[1.0, 2.0]]]


def test_vector_to_parameters_compiled_gives_the_values():
    seen = {}
    for lib in (torch, graphnet):
        m = lib.nn.Linear(2, 1)

        def load(v, x, m=m, lib=lib):
            lib.nn.utils.vector_to_parameters(v, m.parameters())
            return m(x)

        fn = graphnet.compile(load) if lib is graphnet else load
        seen[lib] = [np_of(fn(lib.tensor([1.0 + i, 2.0, -3.0]), lib.tensor([[1.0, 2.0]])))
                     for i in range(2)] + [np_of(m.weight)]
    for a, b in zip(seen[graphnet], seen[torch]):
        assert_close(a, b)


# ---- vmap: nothing batched stays behind a refused write ----------------------------------
def test_vmap_refusal_leaves_batchnorm_usable():
    """torch refuses a training BatchNorm under vmap, so does graphnet; graphnet left a JAX
    batch tracer in running_mean, and the module failed afterwards."""
    x = np.random.default_rng(0).standard_normal((3, 2, 4)).astype(np.float32)
    outs = {}
    for lib in (torch, graphnet):
        bn = lib.nn.BatchNorm1d(4)
        with pytest.raises(RuntimeError):
            lib.func.vmap(bn)(lib.tensor(x))
        assert np_of(bn.running_mean).tolist() == [0.0] * 4
        outs[lib] = np_of(lib.func.vmap(bn.eval())(lib.tensor(x)))
    assert_close(outs[graphnet], outs[torch])


@pytest.mark.parametrize("after", ["refused", "raises"])
def test_vmap_puts_back_every_outside_tensor(after):
    count, buf, grid = graphnet.zeros(()), graphnet.zeros(4), graphnet.zeros(2, 4)
    alias, row = buf.detach(), grid[0]

    def f(a):
        buf.copy_(a.sum().expand(4))
        grid.add_(a)
        count.add_(1)
        if after == "raises":
            raise KeyError("after the writes")
        return a * 2

    with pytest.raises((RuntimeError, KeyError)):
        graphnet.func.vmap(f)(graphnet.ones(3, 4))
    for t in (count, buf, grid, alias, row):
        assert not np_of(t).any()     # concrete zeros again, no tracer


# ---- jvp: the tangent keeps its dtype ------------------------------------------------------
@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_jvp_tangent_dtype_as_torch(compiled):
    p = np.array([1.0, 2.0, 3.0], np.float32)
    seen = {}
    for lib in (torch, graphnet):
        def f(a, b):
            return a * 2, b.sin(), (a * b).sum()

        def run(a, b, ta, tb, lib=lib):
            return lib.func.jvp(f, (a, b), (ta, tb))[1]

        fn = graphnet.compile(run) if (compiled and lib is graphnet) else run
        seen[lib] = fn(lib.tensor(p), lib.tensor(p), lib.tensor(p / 10, dtype=lib.float64),
                       lib.tensor(p))
    for ours, theirs in zip(seen[graphnet], seen[torch]):
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert_close(ours, theirs, rtol=1e-6)
    assert seen[graphnet][0].dtype == graphnet.float64 and \
        seen[graphnet][1].dtype == graphnet.float32


# ---- PyTorch's refusals ----------------------------------------------------------------------
def test_forward_mode_jacobian_needs_vectorize():
    for lib in (torch, graphnet):
        F, x = lib.autograd.functional, lib.tensor([1.0, 2.0])
        with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
            F.jacobian(lambda a: a.sin(), x, strategy="forward-mode")
        with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
            F.hessian(lambda a: a.sin().sum(), x, outer_jacobian_strategy="forward-mode")
        with pytest.raises(NotImplementedError, match="`create_graph=True` and"):
            F.jacobian(lambda a: a.sin(), x, strategy="forward-mode", create_graph=True)
        with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"`'):
            F.jacobian(lambda a: a.sin(), x, strategy="forward-mode", strict=True)
        with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True`"):
            F.jacobian(lambda a: a.sin(), x, vectorize=True, strict=True)
        with pytest.raises(AssertionError, match="Expected strategy to be either"):
            F.hessian(lambda a: a.sin().sum(), x, outer_jacobian_strategy="sideways")
        with pytest.raises(RuntimeError, match="should return a single Tensor$"):
            F.hessian(lambda a: (a.sin().sum(),), x)
        with pytest.raises(RuntimeError, match="should contain a single element"):
            F.hessian(lambda a: a.sin(), x)
    jac = {lib: lib.autograd.functional.jacobian(lambda a: a.sin(), lib.tensor([1.0, 2.0]),
                                                 strategy="forward-mode", vectorize=True)
           for lib in (torch, graphnet)}
    assert_close(jac[graphnet], jac[torch])


def test_vjp_and_jacrev_refuse_outputs_without_gradient():
    message = "All outputs of f must be floating-point or complex Tensors, got Tensor with dtype"
    for lib in (torch, graphnet):
        y = lib.tensor([0.5, -1.0, 2.0])
        with pytest.raises(RuntimeError, match=message):
            lib.func.vjp(lambda a: (a * 2, a > 0), y)
        with pytest.raises(RuntimeError, match=message):
            lib.func.jacrev(lambda a: (a * 2, a.argmax()))(y)
        with pytest.raises(RuntimeError, match=message):
            lib.func.hessian(lambda a: a.argmax())(y)
    # jacfwd keeps them, each block in its output's dtype
    blocks = {lib: lib.func.jacfwd(lambda a, lib=lib: (a * 2, a.argmax(), a > 0, a.double()))(
        lib.tensor([0.5, -1.0, 2.0])) for lib in (torch, graphnet)}
    for ours, theirs in zip(blocks[graphnet], blocks[torch]):
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert_close(np_of(ours).astype(np.float64), np_of(theirs).astype(np.float64))


@pytest.mark.parametrize("transform", ["grad", "vjp", "jacrev", "jvp", "vmap"])
def test_backward_inside_a_transform_raises(transform):
    def run(lib, f):
        x = lib.ones(3)
        return {"grad": lambda: lib.func.grad(f)(x),
                "vjp": lambda: lib.func.vjp(f, x),
                "jacrev": lambda: lib.func.jacrev(f)(x),
                "jvp": lambda: lib.func.jvp(f, (x,), (x,)),
                "vmap": lambda: lib.func.vmap(f)(lib.ones(2, 3))}[transform]()

    for lib in (torch, graphnet):
        outside = lib.ones(2, requires_grad=True)

        def f(a, lib=lib, outside=outside):
            (outside * 3).sum().backward()      # even a graph unrelated to the transform
            return (a * 2).sum()

        with pytest.raises(RuntimeError, match=r"backward\(\) called inside a functorch "
                                               r"transform"):
            run(lib, f)
        assert outside.grad is None

        def g(a, lib=lib):                      # autograd.grad stays allowed
            inner = lib.ones(3, requires_grad=True)
            (got,) = lib.autograd.grad((inner * 3).sum(), inner)
            return (a * got.sum()).sum()

        run(lib, g)


def test_backward_inside_grad_raises_compiled():
    w = graphnet.ones(3, requires_grad=True)

    def step(x):
        def f(a):
            (w * a).sum().backward()
            return a.sum()
        return graphnet.func.grad(f)(x)

    with pytest.raises(RuntimeError, match=r"backward\(\) called inside a functorch"):
        graphnet.compile(step)(graphnet.ones(3))
