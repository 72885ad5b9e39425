"""PyTorch's results and refusals for everyday calls graphnet used to answer differently:
sign of NaN, variance past its degrees of freedom, integer bincount weights, argument checks
of losses, convolutions, slices and masked_fill, and calls torch takes that graphnet refused
(0-d cumsum, flip(0, 1), where(cond)); `mm`, `bmm` and `mv` check their ranks and sizes
instead of broadcasting as `matmul` does; a Python number a tensor's dtype cannot hold
raises (uint8 `fill_(300)` gave 44)."""

import graphnet as gt
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore")

CASES = {
    "sign of NaN": lambda L: L.tensor([float("nan"), -0.0, 2.0]).sign(),
    "var past the count": lambda L: L.tensor([1.0, 2.0, 4.0]).var(correction=5),
    "std past the count": lambda L: L.tensor([1.0, 2.0, 4.0]).std(correction=3),
    "var along dims": lambda L: L.arange(24.0).reshape(2, 3, 4).var(dim=(0, 2), keepdim=True),
    "bincount integer weights": lambda L: L.bincount(L.tensor([0, 1, 1]),
                                                     weights=L.tensor([5, 1, 2])),
    "conv negative padding": lambda L: L.nn.functional.conv2d(
        L.ones(1, 1, 5, 5), L.ones(1, 1, 3, 3), padding=-1),
    "label_smoothing above 1": lambda L: L.nn.functional.cross_entropy(
        L.tensor([[1.0, 2.0, 3.0]]), L.tensor([0]), label_smoothing=1.5),
    "nll_loss int32 target": lambda L: L.nn.functional.nll_loss(
        L.tensor([[-1.0, -2.0]]), L.tensor([0], dtype=L.int32)),
    "cross_entropy int32 target": lambda L: L.nn.functional.cross_entropy(
        L.tensor([[-1.0, -2.0]]), L.tensor([0], dtype=L.int32)),
    "negative slice step": lambda L: L.arange(3)[::-1],
    "masked_fill 1-d value": lambda L: L.zeros(3).masked_fill(
        L.tensor([True, False, True]), L.tensor([1.0])),
    "cumsum of a 0-d tensor": lambda L: L.tensor(3.0).cumsum(0),
    "cumsum of a 0-d int": lambda L: L.tensor(3).cumsum(-1),
    "flip(0, 1)": lambda L: L.arange(4).reshape(2, 2).flip(0, 1),
    "flip([0])": lambda L: L.arange(4).reshape(2, 2).flip([0]),
    "where(cond)": lambda L: L.where(L.tensor([True, False, True]))[0],
    "mm of vectors": lambda L: L.mm(L.ones(2), L.ones(2)),
    "mm of a matrix and a vector": lambda L: L.mm(L.ones(2, 2), L.ones(2)),
    "mm shapes": lambda L: L.mm(L.ones(2, 3), L.ones(2, 1)),
    "mm": lambda L: L.ones(2, 3).mm(L.ones(3, 1)),
    "bmm broadcasting": lambda L: L.bmm(L.ones(1, 2, 2), L.ones(3, 2, 2)),
    "bmm of matrices": lambda L: L.ones(2, 2).bmm(L.ones(2, 2)),
    "bmm": lambda L: L.bmm(L.ones(3, 2, 2), L.ones(3, 2, 1)),
    "mv of vectors": lambda L: L.mv(L.ones(2), L.ones(2)),
    "mv sizes": lambda L: L.mv(L.ones(2, 3), L.ones(2)),
    "mv": lambda L: L.ones(2, 3).mv(L.ones(3)),
    "tensor([2**63])": lambda L: L.tensor([2**63]),
    "tensor(2**70)": lambda L: L.tensor(2**70),
    "tensor([-2**63])": lambda L: L.tensor([-2**63]),
    "x[[]]": lambda L: L.ones(3, 2)[[]],
    "uint8 fill_(300)": lambda L: L.tensor([1, 2], dtype=L.uint8).fill_(300),
    "uint8 fill_(-1) wraps": lambda L: L.zeros(2, dtype=L.uint8).fill_(-1),
    "uint8 clamp(max=300)": lambda L: L.tensor([1, 200], dtype=L.uint8).clamp(max=300),
    "uint8 clamp(0, 255)": lambda L: L.tensor([1, 200], dtype=L.uint8).clamp(0, 255),
    "uint8 x[0] = 300": lambda L: (lambda t: (t.__setitem__(0, 300), t)[1])(
        L.tensor([1, 2], dtype=L.uint8)),
    "uint8 masked_fill 300": lambda L: L.tensor([1, 2], dtype=L.uint8).masked_fill(
        L.tensor([True, False]), 300),
    "int8 full 300": lambda L: L.full((2,), 300, dtype=L.int8),
    "tensor([300], uint8)": lambda L: L.tensor([300], dtype=L.uint8),
    "tensor([1, 40000], int16)": lambda L: L.tensor([1, 40000], dtype=L.int16),
    "int32 fill_(nan)": lambda L: L.zeros(2, dtype=L.int32).fill_(float("nan")),
    "float32 fill_(1e40)": lambda L: L.zeros(2).fill_(1e40),
    "bfloat16 fill_(1e39)": lambda L: L.zeros(2, dtype=L.bfloat16).fill_(1e39),
    "tensor([1e40], float32) is inf": lambda L: L.tensor([1e40], dtype=L.float32),
}


def _outcome(call):
    try:
        out = call()
    except Exception as e:
        return type(e).__name__, str(e).splitlines()[0]
    values = np.asarray(out.detach().numpy())
    return str(out.dtype).split(".")[-1], values.shape, values.tolist()


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    want, got = _outcome(lambda: CASES[name](torch)), _outcome(lambda: CASES[name](gt))
    if want[0] in ("float32", "float64"):
        assert got[:2] == want[:2]
        np.testing.assert_allclose(got[2], want[2], rtol=1e-6)
    else:
        assert got == want


def test_compiled_var_and_sign_match_eager():
    x = gt.tensor([[1.0, float("nan")], [3.0, 4.0]])

    @gt.compile
    def f(x):
        return x.sign(), x[1].var(correction=2), x[1].var(correction=0)

    for got, want in zip(f(x), (x.sign(), x[1].var(correction=2), x[1].var(correction=0))):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("divisor", [2.0, -2.0, 0.5, -0.0])
def test_float_floor_division_keeps_torchs_signed_zeros(divisor):
    values = [-0.0, 0.0, -0.5, 0.5, 3.0, -3.0, 7.25, float("inf"), float("nan")]
    want = torch.floor_divide(torch.tensor(values), divisor).numpy()
    for got in (gt.floor_divide(gt.tensor(values), divisor),
                gt.div(gt.tensor(values), divisor, rounding_mode="floor"),
                gt.compile(lambda x: x // divisor)(gt.tensor(values))):
        got = got.numpy()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("call", ["tensor.backward", "autograd.backward", "autograd.grad"])
def test_a_python_number_as_the_gradient_raises_as_in_torch(call):
    def run(L):
        x = L.ones(2, requires_grad=True)
        y = (x * 2).sum()
        {"tensor.backward": lambda: y.backward(2.0),
         "autograd.backward": lambda: L.autograd.backward(y, 2.0),
         "autograd.grad": lambda: L.autograd.grad(y, x, 2.0)}[call]()

    with pytest.raises(TypeError) as want:
        run(torch)
    with pytest.raises(TypeError, match=str(want.value)):
        run(gt)
