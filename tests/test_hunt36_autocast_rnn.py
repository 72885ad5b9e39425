"""Recurrent layers in a CPU bfloat16 autocast region, as PyTorch runs them: nn.LSTM (oneDNN's
kernel there) in bfloat16, and a bfloat16 input (an Embedding -> Linear -> GRU model) run,
not refused. graphnet gave LSTM float32 results and raised a dtype mismatch for a bfloat16
input to GRU, LSTM and RNN, eagerly and compiled. Found by the language-model hunt."""

import numpy as np
import pytest
import torch

import graphnet

CASES = [("GRU", {}, "bfloat16"), ("LSTM", {}, "float32"), ("LSTM", {}, "bfloat16"),
         ("RNN", {}, "float32"), ("RNN", {}, "bfloat16"),
         ("LSTM", {"proj_size": 4}, "bfloat16")]


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name,kwargs,dtype", CASES)
def test_dtypes_and_values_follow_torch(name, kwargs, dtype, compiled):
    x = np.random.default_rng(0).standard_normal((5, 3, 8)).astype(np.float32)
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(8, 8, **kwargs)
    gm = getattr(graphnet.nn, name)(8, 8, **kwargs)
    gm.load_state_dict({k: graphnet.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            want, states = tm(torch.tensor(x).to(getattr(torch, dtype)))
    except RuntimeError as error:   # the reference needs oneDNN's bfloat16 LSTM on this CPU
        if "primitive descriptor" not in str(error):
            raise
        pytest.skip(f"PyTorch's own oneDNN bfloat16 LSTM does not run on this CPU: {error}")

    def run(a):
        with graphnet.autocast("cpu", dtype=graphnet.bfloat16):
            return gm(a)

    fn = graphnet.compile(run) if compiled else run
    got, got_states = fn(graphnet.tensor(x).to(getattr(graphnet, dtype)))
    want_all = [want, *(states if isinstance(states, tuple) else (states,))]
    got_all = [got, *(got_states if isinstance(got_states, tuple) else (got_states,))]
    for g, w in zip(got_all, want_all, strict=True):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.float().detach().numpy(), w.float().detach().numpy(),
                                   atol=2e-2)


def test_a_float32_input_outside_autocast_is_still_refused():
    gm = graphnet.nn.GRU(8, 8)
    with pytest.raises(ValueError, match="does not match"):
        gm(graphnet.ones(5, 3, 8, dtype=graphnet.bfloat16))
