"""Activation checkpointing as PyTorch scripts use it: which outputs of a reentrant
checkpoint take gradients, and torch.utils.checkpoint's other names."""

import collections
import functools
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as torch_ckpt

import graphnet as gn
import graphnet.utils.checkpoint as gn_ckpt

X = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
W = np.random.default_rng(1).standard_normal((5, 5)).astype(np.float32)
Pair = collections.namedtuple("Pair", "h extra")


def _block(x, w, shape):
    h = (x @ w).tanh()
    aux = (h ** 2).mean()
    if shape == "dict":
        return h, {"aux": aux}
    if shape == "nested":
        return h, (aux, h.sum())
    if shape == "list":
        return [h, aux]
    return Pair(h, [aux])


def _aux(out, shape):
    return {"dict": lambda: out[1]["aux"], "nested": lambda: out[1][0],
            "list": lambda: out[1], "named": lambda: out[1][0]}[shape]()


def _run(lib, ckpt, shape, reentrant, compiled=False):
    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)

    def step(x, w):
        out = ckpt.checkpoint(_block, x, w, shape, use_reentrant=reentrant)
        aux = _aux(out, shape)
        loss = out[0].sum() + 10 * aux if shape != "list" or not reentrant else 10 * aux
        if not loss.requires_grad:
            return None, type(out).__name__
        loss.backward()
        return aux.requires_grad, type(out).__name__

    flags = gn.compile(step)(x, w) if compiled else step(x, w)
    grad = None if w.grad is None else w.grad.numpy().copy()
    return flags, grad


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("shape", ["dict", "nested", "list", "named"])
@pytest.mark.parametrize("compiled", [False, True])
def test_tensors_inside_containers_take_gradients_only_as_in_torch(shape, reentrant, compiled):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_flags, want = _run(torch, torch_ckpt, shape, reentrant)
        got_flags, got = _run(gn, gn_ckpt, shape, reentrant, compiled)
    assert got_flags == want_flags
    if want is None:
        assert got is None
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_backward_through_an_untracked_container_output_raises_as_in_torch():
    for lib, ckpt in ((torch, torch_ckpt), (gn, gn_ckpt)):
        x = lib.ones(2, requires_grad=True)
        out = ckpt.checkpoint(lambda x: {"y": x * 2}, x, use_reentrant=True)
        assert not out["y"].requires_grad
        with pytest.raises(RuntimeError, match="does not require grad"):
            out["y"].sum().backward()


def test_checkpoint_module_names_match_torch():
    for name in ("CheckpointError", "CheckpointPolicy", "create_selective_checkpoint_contexts",
                 "detach_variable", "noop_context_fn", "set_checkpoint_debug_enabled",
                 "set_checkpoint_early_stop", "SelectiveCheckpointContext"):
        assert hasattr(gn_ckpt, name), name
    assert issubclass(gn_ckpt.CheckpointError, RuntimeError)
    assert [p.name for p in gn_ckpt.CheckpointPolicy] == [p.name for p in
                                                           torch_ckpt.CheckpointPolicy]
    x = gn.ones(2, requires_grad=True) * 3
    a, b, c = gn_ckpt.detach_variable((x, 5, gn.zeros(1)))
    assert a.requires_grad and a.grad_fn is None and a.is_leaf and b == 5
    assert not c.requires_grad
    with pytest.raises(RuntimeError, match="Only tuple of tensors is supported. Got "
                                           "Unsupported input type: list"):
        gn_ckpt.detach_variable([x])
    with pytest.raises(TypeError, match="policy_fn_or_list must be either a function"):
        gn_ckpt.create_selective_checkpoint_contexts(3)


def test_selective_checkpointing_and_early_stop_keep_values_and_gradients():
    results = []
    for lib, ckpt in ((torch, torch_ckpt), (gn, gn_ckpt)):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(W, requires_grad=True)
        context = functools.partial(ckpt.create_selective_checkpoint_contexts,
                                    (lambda c, op, *a, **k: ckpt.CheckpointPolicy.MUST_SAVE))
        with ckpt.set_checkpoint_early_stop(False), ckpt.set_checkpoint_debug_enabled(None):
            y = ckpt.checkpoint(lambda x, w: (x @ w).sigmoid() * w[0], x, w,
                                use_reentrant=False, context_fn=context)
        y.sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
        a, b = ckpt.noop_context_fn()
        with a, b:
            pass
    for want, got in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_reentrant_function_and_device_state_helpers():
    x = gn.tensor(X, requires_grad=True)
    w = gn.tensor(W, requires_grad=True)
    y = gn_ckpt.CheckpointFunction.apply(lambda a, b: (a @ b).tanh(), True, x, w)
    y.sum().backward()
    tx, tw = torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)
    torch_ckpt.CheckpointFunction.apply(lambda a, b: (a @ b).tanh(), True, tx, tw).sum() \
        .backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert gn_ckpt.get_device_states(x) == torch_ckpt.get_device_states(tx) == ([], [])
    assert gn_ckpt.DefaultDeviceType.get_device_type() == \
        torch_ckpt.DefaultDeviceType.get_device_type() == "cpu"
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        gn_ckpt.check_backward_validity([gn.ones(1), 3])
