"""Static versus dynamic graphs, mirroring seed 001 ("动态图与静态图"): a dynamic graph is built
while the code runs, so it may depend on computed values; a static graph is built once and
then fed data, which is faster but cannot follow Python decisions on tensor values.

The same model runs both ways here. The static graph is printed, its compile report shown,
a new batch size recompiles (and says why), value-dependent Python control flow is refused
with its line, and the structured form (`graphnet.while_loop` / `graphnet.cond`) compiles
and agrees with the dynamic run.

    python examples/static_vs_dynamic.py
"""

from __future__ import annotations

import time

import graphnet
from graphnet import nn


class ConvNet(nn.Module):
    """A small conv net with BatchNorm, so eval mode shows the BatchNorm fold."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8),
                                      nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def shrink_python(x):
    """The seed's dynamic-graph example: loop until the norm is small. Fine eagerly; a
    static graph cannot hold a loop whose trip count depends on x's values."""
    while x.norm() > 1:
        x = x / 2
    return x


def shrink_structured(x):
    x = graphnet.while_loop(lambda v: v.norm() > 1, lambda v: v / 2, x)
    return graphnet.cond(x.norm() < 0.5, lambda v: v * 2, lambda v: v, x)


def _timed(fn, *args, steps: int = 20) -> float:
    fn(*args)                                    # first call: compile (static) or warm up
    start = time.perf_counter()
    for _ in range(steps):
        out = fn(*args)
    out._value.block_until_ready()
    return (time.perf_counter() - start) / steps


def main() -> dict:
    graphnet.manual_seed(0)
    model = ConvNet().eval()
    x = graphnet.randn(16, 1, 8, 8)
    fast = graphnet.compile(model)
    with graphnet.no_grad():
        dynamic_out, static_out = model(x), fast(x)
        max_diff = (dynamic_out - static_out).abs().max().item()
        print(f"static vs dynamic, largest difference: {max_diff:.1e}")
        print(fast.graph)                        # the graph after the passes
        info = fast.explain()["per_graph"][0]
        for line in info["pass_stats"]:
            print("  pass", line)
        print("  hoisted:", info["hoisted"])
        fast(graphnet.randn(4, 1, 8, 8))         # a new batch size: a new graph
        print("recompile reasons:", fast.explain()["recompile_reasons"])
        dynamic_s, static_s = _timed(model, x), _timed(fast, x)
    print(f"step time dynamic / static: {dynamic_s / static_s:.2f}x (this machine, this run)")

    try:
        graphnet.compile(shrink_python)(graphnet.full((3,), 4.0))
        refused = ""
    except graphnet.TraceError as err:
        refused = str(err)
        print("static graph refused the Python loop:", refused.splitlines()[0])
    v = graphnet.full((3,), 4.0)
    structured = graphnet.compile(shrink_structured)(v)
    print("structured loop, static:", structured.tolist(), "dynamic:",
          shrink_structured(v).tolist())
    return {"max_diff": max_diff, "reasons": fast.explain()["recompile_reasons"],
            "hoisted": info["hoisted"], "pass_stats": info["pass_stats"], "refused": refused,
            "structured": structured.tolist(), "dynamic": shrink_python(v).tolist(),
            "graph": str(fast.compiled.artifacts[0].graph), "speed_ratio": dynamic_s / static_s}


if __name__ == "__main__":
    main()
