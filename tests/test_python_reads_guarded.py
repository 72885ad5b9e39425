"""What Python code reads while a compiled function is traced, and changes between calls:
the values of tensors it did not make (`.item()`, `int()`), the lr of a parameter group,
a scheduler's last lr, a custom optimizer's Python step count. Each compiled call gives
PyTorch's numbers, as eager mode does (compiler/value_reads.py, compiler/python_state.py)."""

import graphnet as gt
import numpy as np
import pytest
import torch
from graphnet._errors import TraceError

pytestmark = pytest.mark.filterwarnings("ignore")


def test_a_buffer_read_with_item_follows_changes_between_calls():
    buf = gt.tensor(0)
    f = gt.compile(lambda x: x * buf.item())
    assert f(gt.ones(2)).tolist() == [0.0, 0.0]
    buf.fill_(7)
    assert f(gt.ones(2)).tolist() == [7.0, 7.0]
    assert f(gt.ones(2)).tolist() == [7.0, 7.0]
    assert len(f.explain()["recompile_reasons"]) == 2       # traced again once, then reused


def test_a_parameter_read_after_an_op_used_it_is_guarded_too():
    scale = gt.nn.Parameter(gt.tensor(2.0))

    @gt.compile
    def f(x):
        y = x * scale                   # the parameter is a program input from here on
        return y * float(scale)         # Python reads the value it held when traced

    assert f(gt.ones(1)).tolist() == [4.0]
    with gt.no_grad():
        scale.fill_(3.0)
    assert f(gt.ones(1)).tolist() == [9.0]


def _ema(L, compiled: bool) -> float:
    lin = L.nn.Linear(1, 1, bias=False)
    opt = L.optim.SGD(lin.parameters(), lr=0.1)
    ema = L.optim.swa_utils.AveragedModel(
        lin, multi_avg_fn=L.optim.swa_utils.get_ema_multi_avg_fn(0.5))
    with L.no_grad():
        lin.weight.fill_(1.0)

    def step(x):
        opt.zero_grad()
        lin(x).sum().backward()
        opt.step()
        ema.update_parameters(lin)      # reads n_averaged with int()

    step = gt.compile(step) if compiled else step
    for _ in range(3):
        step(L.ones(1, 1))
    return ema.module.weight.item()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_an_ema_updated_inside_the_step_matches_torch(compiled):
    assert _ema(gt, compiled) == pytest.approx(_ema(torch, False), rel=1e-6)


def _custom_optimizer(L, compiled: bool):
    class Harmonic(L.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=1.0))

        @L.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    state["step"] = state.get("step", 0) + 1
                    p.sub_(p.grad * group["lr"] / state["step"])

    w = L.nn.Parameter(L.zeros(1))
    opt = Harmonic([w])
    sched = L.optim.lr_scheduler.StepLR(opt, 2, 0.5)

    def step():
        opt.zero_grad()
        (w * -1.0).sum().backward()
        opt.step()

    step = gt.compile(step) if compiled else step
    for _ in range(5):
        step()
        sched.step()
    return opt.state[w]["step"], w.item()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_custom_optimizer_keeping_python_numbers_matches_torch(compiled):
    want_step, want_w = _custom_optimizer(torch, False)
    step, w = _custom_optimizer(gt, compiled)
    assert step == want_step == 5
    assert w == pytest.approx(want_w, rel=1e-6)


def _logged_lrs(L, compiled: bool) -> list:
    w = L.nn.Parameter(L.ones(2))
    opt = L.optim.SGD([w], lr=0.1)
    sched = L.optim.lr_scheduler.StepLR(opt, 1, 0.5)

    def step():
        opt.zero_grad()
        loss = (w * w).sum()
        if opt.param_groups[0]["lr"] < 0.04:       # warm-down by hand
            loss = loss * 10
        loss.backward()
        opt.step()
        return opt.param_groups[0]["lr"], sched.get_last_lr()[0]

    step = gt.compile(step) if compiled else step
    out = []
    for _ in range(4):
        out.append(step())
        sched.step()
    return out + [w.detach().numpy().tolist()]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_the_lr_read_inside_a_step_is_the_current_one(compiled):
    want = _logged_lrs(torch, False)
    got = _logged_lrs(gt, compiled)
    assert got[:4] == want[:4]
    np.testing.assert_allclose(got[4], want[4], rtol=1e-6)


def test_a_step_that_reads_no_lr_is_not_traced_again_when_it_changes():
    w = gt.nn.Parameter(gt.ones(2))
    opt = gt.optim.SGD([w], lr=0.1)
    sched = gt.optim.lr_scheduler.StepLR(opt, 1, 0.5)

    @gt.compile
    def step():
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()

    for _ in range(3):
        step()
        sched.step()
    assert step.explain()["recompile_reasons"] == ["first call"]


def test_reading_a_large_parameter_into_python_is_refused():
    model = gt.nn.Linear(64, 64)
    f = gt.compile(lambda x: x * sum(model.weight.tolist()[0]))
    with pytest.raises(TraceError, match=r"tolist\(\) reads the values of a \[64, 64\] float32 tensor \(4096 elements\)"):
        f(gt.ones(1))


def _formatted(L, compiled: bool, capsys) -> str:
    w = L.tensor([1.0, 2.0])

    def step(x):
        loss = (w * x).sum()
        print(f"loss {loss:.3f} {loss:>8.2e} {loss}")
        return loss

    step = gt.compile(step) if compiled else step
    for i in range(3):
        step(L.tensor([float(i), 1.0]))
    return capsys.readouterr().out


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_zero_dim_tensor_formats_as_its_number(compiled, capsys):
    want = _formatted(torch, False, capsys)
    assert want.splitlines()[1] == "loss 3.000 3.00e+00 3.0"
    assert _formatted(gt, compiled, capsys) == want
    assert f"{gt.tensor([1.0, 2.0])}" == "tensor([1., 2.])"


def test_compiled_bfloat16_rounds_where_eager_mode_does():
    x = gt.tensor([3.14159265, 1000.7])
    want = (torch.tensor(x.numpy()).bfloat16() * 3).float().numpy()
    eager = (x.bfloat16() * 3).float()
    compiled = gt.compile(lambda t: (t.bfloat16() * 3).float())(x)
    np.testing.assert_array_equal(eager.numpy(), want)
    np.testing.assert_array_equal(compiled.numpy(), want)


def _lr_scaled_loss(L, compiled: bool) -> list:
    w = L.nn.Parameter(L.ones(1))
    opt = L.optim.SGD([w], lr=0.5)

    def step():
        opt.zero_grad()
        loss = (w * w).sum() / opt.param_groups[0]["lr"]     # the lr read by user code
        loss.backward()
        opt.step()
        return loss

    step = gt.compile(step) if compiled else step
    out = []
    for lr in (0.5, 0.25, 0.125):
        opt.param_groups[0]["lr"] = lr          # set by hand between calls
        out.append(float(step()))
    return out


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_an_lr_set_by_hand_between_calls_reaches_the_users_own_read(compiled):
    np.testing.assert_allclose(_lr_scaled_loss(gt, compiled), _lr_scaled_loss(torch, False),
                               rtol=1e-6)
