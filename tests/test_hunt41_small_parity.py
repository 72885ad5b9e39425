"""Small parity points: std/var warn when no degrees of freedom are left; chain_matmul
refuses a 1-D operand; normalize's grad_fn is PyTorch's DivBackward0; a BatchNorm in training
under vmap is refused with a message that names the running statistics."""
import warnings

import numpy as np
import pytest
import torch

import graphnet as G


@pytest.mark.parametrize("call", [lambda L: L.ones(1).std(),
                                  lambda L: L.ones(2).var(correction=3),
                                  lambda L: L.ones(2, 1).std(1),
                                  lambda L: L.var_mean(L.ones(1))])
def test_no_degrees_of_freedom_warns(call):
    for lib in (torch, G):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            call(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        G.ones(2, 3).std(0)


def test_chain_matmul_refuses_non_matrices():
    for lib in (torch, G):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for args in ((lib.ones(3),), (lib.ones(2, 2), lib.ones(2))):
                with pytest.raises(RuntimeError, match="Tensor dimension is 1, expected 2"):
                    lib.chain_matmul(*args)
            assert lib.chain_matmul(lib.ones(2, 3), lib.ones(3, 2)).tolist() == [[3.0] * 2] * 2


def test_normalize_grad_fn_name():
    for lib in (torch, G):
        x = lib.ones(2, 3, requires_grad=True)
        assert type(lib.nn.functional.normalize(x).grad_fn).__name__ == "DivBackward0"


def test_vmap_over_a_training_batchnorm_names_the_running_statistics():
    models = [G.nn.BatchNorm1d(3) for _ in range(2)]
    params, buffers = G.func.stack_module_state(models)

    def call(p, b, x):
        return G.func.functional_call(models[0], (p, b), (x,))

    x = G.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    with pytest.raises(RuntimeError, match="BatchNorm's running statistics"):
        G.func.vmap(call, in_dims=(0, 0, None))(params, buffers, x)
    for m in models:
        m.eval()
    out = G.func.vmap(call, in_dims=(0, 0, None))(params, buffers, x)
    assert tuple(out.shape) == (2, 4, 3)


def test_unsqueeze_strides_of_strided_views():
    for lib in (torch, G):
        x = lib.arange(24.0).view(2, 3, 4)
        got = [x[:, :, 1].unsqueeze(-1).stride(), x.permute(2, 0, 1).unsqueeze(3).stride(),
               x[..., ::2].unsqueeze(-1).stride(), x.transpose(0, 2).unsqueeze(1).stride(),
               x[:, 1].unsqueeze(0).stride()]
        assert got == [(12, 4, 1), (1, 12, 4, 1), (12, 4, 2, 1), (1, 12, 4, 12), (24, 12, 1)]


def test_get_total_norm_of_a_missing_grad():
    for lib in (torch, G):
        with pytest.raises(RuntimeError, match="the 1-th Tensor is not"):
            lib.nn.utils.get_total_norm([lib.ones(2), None])
        assert lib.nn.utils.get_total_norm([lib.ones(4)]).item() == 2.0
