"""The suite compiles with test-only XLA flags (tests/conftest.py: LLVM level 0, XLA-CPU's
legacy fusion emitters), which make a cold run a third shorter and change how code is
generated, not the math. These end-to-end parity tests run once more in a subprocess with
XLA's own defaults, so code generated as users get it is checked against PyTorch too:
convolutions, pools and a training step in both modes (LeNet), attention, layer norm and
embedding (a tiny GPT), recurrent layers (an LSTM language model), and differences of a
value with itself, which only LLVM's optimizations contract into a multiply-add."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKS = [
    "tests/test_workloads_zoo.py::test_lenet_variants_train_identically",
    "tests/test_examples_beyond_seeds.py::test_tiny_gpt_trains_like_pytorch_in_both_modes",
    "tests/test_models.py::test_rnn_language_model_forward_backward_through_state",
    # LLVM level 0 contracts no multiply-add, so only XLA's defaults show these (26 tests)
    "tests/test_hunt38_self_differences.py",
    "tests/test_hunt50_straight_through.py",    # the same contraction (5 tests)
]


def test_parity_tests_pass_with_xlas_default_flags():
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["GRAPHNET_TEST_DEFAULT_XLA"] = "1"
    done = subprocess.run([sys.executable, "-m", "pytest", "-n0", "-p", "no:cacheprovider",
                           *CHECKS], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "35 passed" in done.stdout, done.stdout[-2000:]
