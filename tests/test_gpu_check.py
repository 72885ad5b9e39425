"""The GPU check script refuses to run without a GPU, saying what to install (the GPU run
itself needs a lent device; see runtime/gpu_check.py)."""

import jax
import pytest

from graphnet.runtime import gpu_check


@pytest.mark.skipif(jax.default_backend() == "gpu", reason="a GPU is present: run the check")
def test_refuses_without_a_gpu(capsys):
    assert gpu_check.main(["--quick", "--out", "unused"]) == 2
    assert "not a GPU" in capsys.readouterr().err
