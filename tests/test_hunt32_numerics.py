"""Numbers and errors as torch's, from the thirty-second session's classic-ML, mini-GPT,
segmentation and error hunts: tanh past |x| = 7.9, a float32 variance around a large
offset, cov's weight dtype, lstsq's right-hand side, and four errors torch raises."""

import numpy as np
import pytest
import torch

import graphnet as gn

_MODES = [lambda f: f, gn.compile]


@pytest.mark.parametrize("compile_", _MODES)
def test_tanh_and_its_gradient_do_not_saturate_early(compile_):
    x = np.array([3.0, 7.0, 7.9, 8.0, 8.2, 9.0, -8.2, 0.3], np.float32)

    def run(lib, c):
        t = lib.tensor(x, requires_grad=True)

        def f(t):
            y = lib.tanh(t)
            y.sum().backward()
            return y

        y = c(f)(t)
        return y.detach().numpy(), t.grad.numpy()

    (value, grad), (want_value, want_grad) = run(gn, compile_), run(torch, lambda f: f)
    np.testing.assert_array_equal(value, want_value)   # bit for bit
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=0)   # XLA may fuse 1 - y*y


@pytest.mark.parametrize("compile_", _MODES)
def test_gelu_tanh_gradient_in_its_tail(compile_):
    x = np.array([-4.93, -6.0, -3.0, 0.5, 2.0], np.float32)

    def grad(lib, c):
        t = lib.tensor(x, requires_grad=True)

        def f(t):
            lib.nn.functional.gelu(t, approximate="tanh").sum().backward()
            return t.grad

        c(f)(t)
        return t.grad.numpy()

    got, want = grad(gn, compile_), grad(torch, lambda f: f)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)
    assert got[0] != 0


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_cells_use_the_accurate_tanh(kind):
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(2, 3)
    gm = getattr(gn.nn, kind)(2, 3)
    gm.load_state_dict({k: gn.from_numpy(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    x = np.linspace(-30, 30, 24, dtype=np.float32).reshape(4, 3, 2)   # saturating cells
    tx, gx = torch.tensor(x, requires_grad=True), gn.tensor(x, requires_grad=True)
    tm(tx)[0].sum().backward()
    gm(gx)[0].sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=5e-5, atol=1e-9)


@pytest.mark.parametrize("compile_", _MODES)
def test_float32_std_around_a_large_offset(compile_):
    x = (1e5 + np.random.RandomState(13).randn(1000, 1)).astype(np.float32)
    exact = x.astype(np.float64).std(0, ddof=1)[0]
    got = compile_(lambda t: t.std(0))(gn.tensor(x)).item()
    want = torch.tensor(x).std(0).item()
    assert abs(got / exact - 1) <= 2 * abs(want / exact - 1) + 1e-7


def test_cov_promotes_to_float64_weights():
    for lib in (torch, gn):
        x = lib.tensor([[1., 2., 4.], [0., 3., 1.]])
        out = lib.cov(x, aweights=lib.tensor([1., 2., 1.], dtype=lib.float64))
        assert str(out.dtype).endswith("float64")


@pytest.mark.parametrize("a_shape,b_shape", [((2, 5, 3), (1, 5)), ((1, 3, 3), (2, 3))])
def test_lstsq_reads_a_matrix_right_hand_side_as_torch_does(a_shape, b_shape):
    with pytest.raises(RuntimeError) as want:
        torch.linalg.lstsq(torch.ones(*a_shape), torch.ones(*b_shape))
    with pytest.raises(RuntimeError) as got:
        gn.linalg.lstsq(gn.ones(*a_shape), gn.ones(*b_shape))
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("compile_", _MODES)
def test_index_tensors_that_do_not_broadcast_raise_index_error(compile_):
    message = r"shape mismatch: indexing tensors could not be broadcast together with shapes " \
              r"\[2\], \[3\]"
    with pytest.raises(IndexError, match=message):
        torch.zeros(3, 3)[torch.tensor([0, 1]), torch.tensor([0, 1, 2])]
    f = compile_(lambda x, a, b: x[a, b])
    with pytest.raises(IndexError, match=message):
        f(gn.zeros(3, 3), gn.tensor([0, 1]), gn.tensor([0, 1, 2]))


def test_a_transformer_layer_of_the_wrong_width_raises_assertion_error():
    layer = gn.nn.TransformerEncoderLayer(16, 2)
    with pytest.raises(AssertionError, match="d_model=16"):
        layer(gn.zeros(2, 5, 12))


@pytest.mark.parametrize("compile_", _MODES)
def test_a_byte_spatial_target_raises(compile_):
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Byte"):
        torch.nn.functional.cross_entropy(torch.zeros(2, 4, 5), torch.zeros(2, 5).byte())
    f = compile_(lambda a, b: gn.nn.functional.cross_entropy(a, b))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Byte"):
        f(gn.zeros(2, 4, 5), gn.zeros(2, 5).byte())
    assert f(gn.zeros(2, 4), gn.zeros(2).byte()).item() == pytest.approx(1.3862944)
