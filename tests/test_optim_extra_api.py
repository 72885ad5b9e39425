"""The Optimizer API beyond step() against torch 2.13: step pre/post hooks (per optimizer
and global, argument rewriting, removal, inside a compiled step), named parameters,
zero_grad(set_to_none=False), add_param_group's errors, the full flag sets of the existing
optimizers, and SparseAdam's refusal."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest
from parity import assert_close, np_of
from test_optim import make_nets, train_both

import graphnet

torch = pytest.importorskip("torch")


def _record(lib):
    """An SGD step with both hooks and both global hooks recording their calls in order."""
    calls = []
    module = importlib.import_module(f"{lib.__name__}.optim.optimizer")
    p = lib.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.1)
    hooks = (module.register_optimizer_step_pre_hook(
                 lambda o, a, k: calls.append(("global pre", type(o).__name__, len(a)))),
             opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", len(a), dict(k)))),
             opt.register_step_post_hook(lambda o, a, k: calls.append(("post", len(a)))),
             module.register_optimizer_step_post_hook(
                 lambda o, a, k: calls.append(("global post",))))
    p.grad = lib.ones(3)
    opt.step()
    opt.step(closure=None)
    for handle in hooks[1:3]:
        handle.remove()
    opt.step()
    for handle in (hooks[0], hooks[3]):
        handle.remove()
    opt.step()
    return calls, np_of(p)


def test_step_hooks_run_in_torch_order_and_remove():
    ours, p_ours = _record(graphnet)
    theirs, p_theirs = _record(torch)
    assert ours == theirs
    assert len(ours) == 10
    np.testing.assert_allclose(p_ours, p_theirs, rtol=1e-6)


def test_a_pre_hook_may_replace_the_arguments():
    def with_closure(opt, args, kwargs):
        return args, {"closure": lambda: 42.0}

    for lib in (torch, graphnet):
        p = lib.tensor(np.ones(2, np.float32), requires_grad=True)
        opt = lib.optim.Adam([p])
        opt.register_step_pre_hook(with_closure)
        p.grad = lib.ones(2)
        assert opt.step() == 42.0
        opt.register_step_pre_hook(lambda o, a, k: "bad")
        with pytest.raises(RuntimeError, match="must return None or a tuple"):
            opt.step()


def test_hooks_inside_a_compiled_step_trace_and_guard():
    """A post hook that clips the parameters runs in the compiled step (its ops are
    recorded); removing it recompiles instead of running a stale program."""
    t_net, g_net = make_nets()
    t_opt = torch.optim.SGD(t_net.parameters(), lr=0.5)
    g_opt = graphnet.optim.SGD(g_net.parameters(), lr=0.5)

    def clip(opt, args, kwargs):
        for group in opt.param_groups:
            for p in group["params"]:
                p.data = p.data.clamp(-0.3, 0.3) if isinstance(p, torch.Tensor) else \
                    p.detach().clamp(-0.3, 0.3)

    handles = [t_opt.register_step_post_hook(clip), g_opt.register_step_post_hook(clip)]
    fast = train_both(t_net, g_net, t_opt, g_opt, 3, compiled=True)
    assert max(float(p.abs().max()) for p in g_net.parameters()) <= 0.3 + 1e-7
    for handle in handles:
        handle.remove()
    from test_optim import batches, train_step_fn
    t_step = train_step_fn(t_net, t_opt)
    for x, y in batches(2, seed=7):
        t_step(torch.from_numpy(x), torch.from_numpy(y))
        fast(graphnet.from_numpy(x), graphnet.from_numpy(y))
    for gp, tp in zip(g_net.parameters(), t_net.parameters(), strict=True):
        assert_close(gp, tp, atol=1e-5, rtol=1e-5, what="after removing the hook")
    assert any("step hooks" in r for r in fast.explain()["recompile_reasons"])


def test_named_parameters_keep_their_names_like_torch():
    t_net, g_net = make_nets()
    t_opt = torch.optim.AdamW(t_net.named_parameters(), lr=0.01)
    g_opt = graphnet.optim.AdamW(g_net.named_parameters(), lr=0.01)
    train_both(t_net, g_net, t_opt, g_opt, 2)
    assert g_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]
    assert g_opt.param_groups[0]["param_names"] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                    "fc2.bias"]


def test_zero_grad_to_zeros_clears_nan_like_torch():
    for lib in (torch, graphnet):
        p = lib.tensor(np.ones(3, np.float32), requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        p.grad = lib.tensor(np.array([np.nan, np.inf, 2.0], np.float32))
        opt.zero_grad(set_to_none=False)
        np.testing.assert_array_equal(np_of(p.grad), np.zeros(3, np.float32))
        opt.zero_grad()
        assert p.grad is None


@pytest.mark.parametrize("make,error,message", [
    (lambda lib, p: lib.optim.SGD(p[0], lr=0.1), TypeError, "iterable of Tensors or dicts"),
    (lambda lib, p: lib.optim.SGD([{"params": set(p)}], lr=0.1), TypeError,
     "ordered collections"),
    (lambda lib, p: lib.optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda lib, p: lib.optim.SGD([p[0], 3.0], lr=0.1), TypeError, "can only optimize Tensors"),
    (lambda lib, p: lib.optim.SGD([{"params": p[:1]}, {"params": p}], lr=0.1), ValueError,
     "more than one parameter group"),
    (lambda lib, p: lib.optim.SGD([p[0] * 2], lr=0.1), ValueError, "non-leaf"),
    (lambda lib, p: lib.optim.SGD([("a", p[0]), p[1]], lr=0.1), ValueError,
     "Some param names are missing"),
    (lambda lib, p: lib.optim.SGD(p, lr=0.1).add_param_group([p]), TypeError, "must be a dict"),
])
def test_bad_params_raise_like_torch(make, error, message):
    for lib in (torch, graphnet):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
        with pytest.raises(error, match=message):
            make(lib, params)


def test_duplicate_parameters_warn_like_torch():
    p = graphnet.zeros(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        graphnet.optim.SGD([p, p], lr=0.1)


NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax", "Adadelta",
         "ASGD", "Rprop", "Adafactor", "LBFGS"]


@pytest.mark.parametrize("name", NAMES)
def test_constructors_take_torchs_full_signature(name):
    """Every keyword (amsgrad, maximize, nesterov, foreach, fused, capturable ...) with
    torch's default, positional where torch's is."""
    ours = inspect.signature(getattr(graphnet.optim, name))
    theirs = inspect.signature(getattr(torch.optim, name))
    described = [(p.name, p.kind, p.default) for p in theirs.parameters.values()]
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == described


@pytest.mark.parametrize("flags", [dict(foreach=True), dict(fused=True),
                                   dict(foreach=False, fused=False)])
def test_speed_flags_are_accepted_and_change_nothing(flags):
    # NOTE: graphnet has one path, so it accepts these and computes the plain step;
    # capturable=True on the CPU fails PyTorch's device assertion (tests/test_amp_parity.py)
    t_net, g_net = make_nets()
    t_opt = torch.optim.Adam(t_net.parameters(), lr=0.01)
    g_opt = graphnet.optim.Adam(g_net.parameters(), lr=0.01, **flags)
    train_both(t_net, g_net, t_opt, g_opt, 2)


def test_sparse_adam_is_refused_with_the_alternative():
    with pytest.raises(NotImplementedError, match=r"no sparse.*Use graphnet\.optim\.Adam"):
        graphnet.optim.SparseAdam([graphnet.zeros(2, requires_grad=True)])


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_two_optimizers_in_one_compiled_step_keep_their_own_hyper_parameters(compiled):
    """A GAN-style step with two optimizers: each one's group0.lr, betas and state are its
    own graph inputs (they once shared the first optimizer's lr inside a compiled step)."""
    t_net, g_net = make_nets()
    t_opts = [torch.optim.Adam(t_net.fc1.parameters(), lr=0.05, betas=(0.5, 0.9)),
              torch.optim.Adam(t_net.fc2.parameters(), lr=0.001)]
    g_opts = [graphnet.optim.Adam(g_net.fc1.parameters(), lr=0.05, betas=(0.5, 0.9)),
              graphnet.optim.Adam(g_net.fc2.parameters(), lr=0.001)]

    def step_of(model, opts):
        def train_step(x, y):
            for opt in opts:
                opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            for opt in opts:
                opt.step()
            return loss
        return train_step

    from test_optim import batches
    t_step, g_step = step_of(t_net, t_opts), step_of(g_net, g_opts)
    g_step = graphnet.compile(g_step) if compiled else g_step
    for i, (x, y) in enumerate(batches(4)):
        if i == 2:   # a scheduler-like change of the second optimizer's lr between calls
            t_opts[1].param_groups[0]["lr"] = g_opts[1].param_groups[0]["lr"] = 0.02
        t_step(torch.from_numpy(x), torch.from_numpy(y))
        g_step(graphnet.from_numpy(x), graphnet.from_numpy(y))
        for gp, tp in zip(g_net.parameters(), t_net.parameters(), strict=True):
            assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"step {i + 1}")


def _state_hook_calls(lib):
    calls = []
    p = lib.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.1)
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre first"), prepend=True)

    def add_note(o, state_dict):
        calls.append("post")
        return {**state_dict, "note": 1}
    handle = opt.register_state_dict_post_hook(add_note)

    def shrink_lr(o, state_dict):
        calls.append("load pre")
        state_dict["param_groups"][0]["lr"] = 0.5
        return state_dict
    opt.register_load_state_dict_pre_hook(shrink_lr)
    opt.register_load_state_dict_post_hook(lambda o: calls.append(("load post",
                                                                    o.param_groups[0]["lr"])))
    saved = opt.state_dict()
    handle.remove()
    opt.load_state_dict(opt.state_dict())
    return calls, saved["note"]


def test_state_dict_hooks_run_like_torch():
    assert _state_hook_calls(graphnet) == _state_hook_calls(torch)


def test_the_old_lr_scheduler_base_name_exists_for_subclasses():
    class Halving(graphnet.optim.lr_scheduler._LRScheduler):
        def get_lr(self):
            return [base * 0.5 ** self.last_epoch for base in self.base_lrs]

    opt = graphnet.optim.SGD([graphnet.zeros(2, requires_grad=True)], lr=0.8)
    sched = Halving(opt)
    sched.step()
    sched.step()
    assert sched.get_last_lr() == [0.2]


def test_repr_of_several_groups_matches_torch():
    """PyTorch prints a blank line between parameter groups (graphnet printed none)."""
    reprs = []
    for lib in (torch, graphnet):
        p, q = lib.nn.Parameter(lib.ones(1)), lib.nn.Parameter(lib.ones(1))
        reprs.append(repr(lib.optim.Adam([{"params": [p]}, {"params": [q], "lr": 0.5}],
                                         lr=0.1)))
    assert reprs[1] == reprs[0]


def test_module_to_an_integer_dtype_raises_as_in_torch():
    for lib in (torch, graphnet):
        with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
            lib.nn.Linear(2, 1).to(lib.int32)
    assert graphnet.nn.Linear(2, 1).to(graphnet.float64).weight.dtype == graphnet.float64


def _shared_state(L) -> list:
    p = L.nn.Parameter(L.ones(2))
    opt = L.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = L.ones(2)
    opt.step()
    saved = opt.state_dict()
    q = L.nn.Parameter(L.ones(2))
    copy = L.optim.SGD([q], lr=0.1, momentum=0.9)
    copy.load_state_dict(saved)
    q.grad = L.ones(2)
    copy.step()                 # the loaded optimizer updates the one buffer both hold
    return [opt.state[p]["momentum_buffer"].tolist(),
            saved["state"][0]["momentum_buffer"].tolist(),
            saved["state"][0]["momentum_buffer"] is opt.state[p]["momentum_buffer"]]


def test_state_dict_shares_the_state_tensors_as_in_torch():
    import torch

    assert _shared_state(graphnet) == _shared_state(torch)
