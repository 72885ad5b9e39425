"""jacfwd's `randomness`: PyTorch computes it under vmap, so a random draw in the function
raises under the default 'error' (graphnet returned a Jacobian for one random mask);
'same' draws once; 'different', which graphnet's single pass cannot honour, says so."""
import pytest
import torch

import graphnet as G


def _fn(lib):
    drop = lib.nn.Dropout(0.5)   # training mode: a random mask
    return lambda x: drop(x).sin()


@pytest.mark.parametrize("compiled", [False, True])
def test_default_error_mode_refuses_a_random_draw(compiled):
    with pytest.raises(RuntimeError) as want:
        torch.func.jacfwd(_fn(torch))(torch.ones(3))
    run = (lambda x: G.func.jacfwd(_fn(G))(x))
    with pytest.raises(RuntimeError) as got:
        (G.compile(run) if compiled else run)(G.ones(3))
    assert str(got.value) == str(want.value)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        G.func.hessian(lambda x: _fn(G)(x).sum())(G.ones(3))


def test_same_draws_one_mask_and_different_is_refused():
    jac = G.func.jacfwd(_fn(G), randomness="same")(G.ones(4))
    diag = jac.diagonal()
    kept = diag != 0
    assert ((jac - G.diag(diag)) == 0).all()
    assert G.allclose(diag[kept], 2 * G.cos(G.tensor(2.0)).expand(int(kept.sum())))
    with pytest.raises(RuntimeError, match="randomness='different'"):
        G.func.jacfwd(_fn(G), randomness="different")(G.ones(4))
    assert G.func.jacfwd(lambda x: x.sin())(G.zeros(2)).tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_draws_outside_are_unaffected():
    G.func.jacfwd(lambda x: x * 2)(G.ones(2))
    assert G.rand(2).shape == (2,)      # the policy ended with the call
