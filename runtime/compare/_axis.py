"""What every axis of `graphnet compare` receives, and the rules it follows.

An axis is one module of this package with `measure(ctx: Context) -> dict`: it runs its
measurements for `ctx.workloads` and returns a JSON-serialisable dict, the value of
`results["axes"][<axis name>]` whose shape docs/compare.md documents. It reports progress
through `ctx.progress(label)` (one call per sub-step it starts; the live display shows the
label) and never prints. Sizes and repeat counts depend on `ctx.preset`: "quick" (a smoke run
for tests: the whole study well under a minute), "default" (about three minutes on 2 CPU
cores, all axes together) or "full" (every workload and setting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

PRESETS = ("quick", "default", "full")


@dataclass
class Context:
    preset: str = "default"                  # "quick" | "default" | "full"
    workloads: list = field(default_factory=lambda: ["mlp"])   # names in WORKLOADS
    torch: bool = True                        # include PyTorch eager variants (when installed)
    torch_compile: bool = False               # also torch.compile (--with-torch-compile)
    seed: int = 0
    progress: Callable[[str], None] = lambda label: None

    def pick(self, quick, default, full):
        """The value for this preset: `ctx.pick(2, 7, 15)` rounds, say."""
        return {"quick": quick, "default": default, "full": full}[self.preset]
