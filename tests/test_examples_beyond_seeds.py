"""The examples beyond the seed tutorials (tiny GPT, conv autoencoder, GAN): each trains the
same losses dynamically, statically and with PyTorch from the same weights and data."""

import os
import runpy

import numpy as np
import pytest
from parity import torch

import graphnet

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _example(name):
    return runpy.run_path(os.path.join(EXAMPLES, name), run_name="example")


def _copy_weights(ours, theirs):
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def _close(a, b, rtol=2e-4, atol=2e-5):
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=rtol, atol=atol)


def test_tiny_gpt_trains_like_pytorch_in_both_modes():
    ex = _example("tiny_gpt.py")
    graphnet.manual_seed(0)
    dynamic, static, reference = ex["build"](graphnet), ex["build"](graphnet), ex["build"](torch)
    static.load_state_dict(dynamic.state_dict())
    _copy_weights(dynamic, reference)
    assert static.head.weight is static.tok.weight and reference.head.weight is reference.tok.weight
    steps = 6
    theirs = ex["train"](torch, reference, steps)
    _close(ex["train"](graphnet, dynamic, steps), theirs)
    _close(ex["train"](graphnet, static, steps, compiled=True), theirs)
    text = ex["generate"](graphnet, static, "the ", 8, compiled=True)
    assert text.startswith("the ") and len(text) == 12 and set(text) <= set(ex["VOCAB"])


def test_conv_autoencoder_trains_like_pytorch_in_both_modes():
    ex = _example("conv_autoencoder.py")
    graphnet.manual_seed(0)
    dynamic, static, reference = ex["build"](graphnet), ex["build"](graphnet), ex["build"](torch)
    static.load_state_dict(dynamic.state_dict())
    _copy_weights(dynamic, reference)
    theirs = ex["train"](torch, reference, 5)
    _close(ex["train"](graphnet, dynamic, 5), theirs)
    _close(ex["train"](graphnet, static, 5, compiled=True), theirs)
    assert theirs[-1] < theirs[0]


def test_gan_trains_like_pytorch_in_both_modes():
    ex = _example("gan.py")
    graphnet.manual_seed(0)
    dynamic, static, reference = ex["build"](graphnet), ex["build"](graphnet), ex["build"](torch)
    for ours, copy, theirs in zip(dynamic, static, reference):
        copy.load_state_dict(ours.state_dict())
        _copy_weights(ours, theirs)
    theirs = ex["train"](torch, *reference, 5)
    _close(ex["train"](graphnet, *dynamic, 5), theirs)
    _close(ex["train"](graphnet, *static, 5, compiled=True), theirs)


@pytest.mark.parametrize("name", ["tiny_gpt.py", "conv_autoencoder.py", "gan.py"])
def test_main_runs_at_small_size(name, capsys):
    results = _example(name)["main"](["--steps", "3"])
    assert results["dynamic"] and len(results["dynamic"]) == len(results["static"]) == 3
    assert "dynamic vs static" in capsys.readouterr().out
