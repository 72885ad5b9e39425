"""A matmul whose operand is a broadcast (a constant filter, `full`, a vector broadcast along
a dim) in a program that holds a convolution. Such programs were compiled with XLA-CPU's
YNNPACK `LIBRARY_FUSION_TYPE_DOT`, which fuses the broadcast into the library call and reads
it wrongly: `conv2d(x, ones(2, 4, 1, 1))` compiled, backward outside, gave half of x's
gradient (and half of every parameter gradient upstream), with no error. Matmuls now go to
the library one by one (`LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet import _xla

X = np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32)


def _filters(lib):
    return {
        "ones": lambda: lib.ones(2, 4, 1, 1),
        "full 3x3": lambda: lib.full((3, 4, 3, 3), 0.5),
        "scaled ones": lambda: lib.ones(2, 4, 1, 1) / 4,
        "per-output": lambda: lib.ones(2, 4, 1, 1) * lib.tensor([1.0, 2.0]).reshape(2, 1, 1, 1),
    }


@pytest.mark.parametrize("name", sorted(_filters(torch)))
def test_a_constant_filter_passes_the_whole_gradient_back(name):
    def run(lib, compiled):
        x = lib.tensor(X, requires_grad=True)

        def f(a):
            return lib.nn.functional.conv2d(a, _filters(lib)[name](), padding=1)

        y = (gn.compile(f) if compiled else f)(x)
        (y * y).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    want = run(torch, False)
    for got in (run(gn, False), run(gn, True)):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-4)


def test_a_compiled_model_with_a_fixed_averaging_conv_trains_its_layers():
    def make(lib):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.c = lib.nn.Conv2d(4, 4, 3, padding=1)

            def forward(self, x):
                return lib.nn.functional.conv2d(self.c(x), lib.ones(2, 4, 1, 1) / 4)

        return Model()

    torch.manual_seed(0)
    tm, gm = make(torch), make(gn)
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    tm(torch.tensor(X)).pow(2).sum().backward()
    gn.compile(gm)(gn.tensor(X)).pow(2).sum().backward()
    for (name, p), q in zip(tm.named_parameters(), gm.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)


@pytest.mark.parametrize("operand", ["full", "broadcast vector"])
def test_programs_with_a_conv_multiply_broadcast_operands_right(operand):
    a = jnp.asarray(np.random.default_rng(1).standard_normal((9, 2)).astype(np.float32))

    def f(a):
        w = jnp.full((2, 4), 1.5, jnp.float32) if operand == "full" else \
            jnp.broadcast_to(a[0, :, None], (2, 4))
        return a @ w

    want = np.asarray(jax.jit(f)(a))
    np.testing.assert_allclose(np.asarray(_xla.jit(f, True, program=True)(a)), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(_xla.jit(f, True)(a)), want, rtol=1e-6)


def test_a_reduction_of_a_batched_matmul_with_a_broadcast_operand():
    """XLA's default set has YNNPACK's reduce fusion, which took in `bmm(x, w.expand(...))`
    with the sum after it and read the broadcast operand wrongly (garbage up to 1e22)."""
    x = np.random.default_rng(2).standard_normal((3, 45, 2)).astype(np.float32)
    v = np.random.default_rng(3).standard_normal(2).astype(np.float32)

    def f(lib, t, w):
        return lib.bmm(t, w.view(1, 2, 1).expand(3, 2, 40)).sum(1)

    want = f(torch, torch.tensor(x), torch.tensor(v)).numpy()
    got = gn.compile(lambda t, w: f(gn, t, w))(gn.tensor(x), gn.tensor(v)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)

    def softmax_of(t):   # the same product under a softmax, in pure JAX through graphnet's jit
        w = jnp.full((3, 2, 40), 1.5, jnp.float32)
        return jax.nn.softmax(jnp.matmul(t, w), axis=1)

    reference = np.asarray(jax.jit(softmax_of, compiler_options={
        "xla_cpu_experimental_ynn_fusion_type": ""})(x))
    for kernel in (_xla.jit(softmax_of, program=True), _xla.jit(softmax_of)):
        np.testing.assert_allclose(np.asarray(kernel(x)), reference, rtol=1e-5, atol=1e-6)
