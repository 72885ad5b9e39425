"""Autograd's own ops: no public function reaches them; `vjp` is a node's backward recorded
for create_graph=True / autograd.grad in a compiled function, `custom_function` is a traced
autograd.Function call. Each names the test that compares it with torch."""

from __future__ import annotations

ELSEWHERE = {
    "vjp": ("autograd.grad(create_graph=True)", "tests/test_autograd_api.py",
            "test_wgan_gradient_penalty_matches_torch"),
    "custom_function": ("autograd.Function", "tests/test_autograd_function.py",
                        "test_function_matches_torch"),
}
