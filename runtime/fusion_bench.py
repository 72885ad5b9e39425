"""What XLA-CPU's library fusion costs or buys: each workload's static step compiled with each
of graphnet._xla.OPTION_SETS, timed interleaved in one process, against PyTorch eager.

    python -m graphnet.runtime.fusion_bench mlp lenet resnet18-train

The workload is built once per option set, and the set is chosen while each variant runs (a
program's options are fixed when it is compiled, at its first call). Convolution lowerings
are measured per option set (their autotune key carries it). Only static programs are
compared: dynamic mode's per-op kernels would be shared between the builds."""

from __future__ import annotations

from . import bench
from .workloads import WORKLOADS, Workload


def _choosing(name: str, step):
    from graphnet import _xla

    def run():
        saved = _xla._chosen
        _xla.choose(name)
        try:
            return step()
        finally:
            _xla.choose(saved)
    return run


def fusion_workload(name: str, torch: bool = True) -> Workload:
    """One workload with a `static-<option set>` variant per option set, and `torch` when
    installed; the ratios are each set's step over graphnet's default set's."""
    from graphnet import _xla

    variants, blockers = {}, {}
    for options in _xla.OPTION_SETS:
        built = WORKLOADS[name](torch=torch and not variants)
        variants[f"static-{options}"] = _choosing(options, built.variants["static"])
        blockers[f"static-{options}"] = built.blockers["static"]
        if "torch" in built.variants:
            variants["torch"], blockers["torch"] = built.variants["torch"], built.blockers["torch"]
    base = f"static-{_xla.DEFAULT}"
    ratios = [(f"{v} / {base}", v, base) for v in variants if v not in (base, "torch")]
    if "torch" in variants:
        ratios += [(f"{v} / PyTorch eager", v, "torch") for v in variants if v != "torch"]
    return Workload(name, built.description, variants, blockers, ratios=ratios)


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["mlp", "lenet"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-torch", action="store_true")
    options = parser.parse_args(argv)
    for name in options.models:
        result = bench.run(fusion_workload(name, torch=not options.no_torch),
                           steps=options.steps, rounds=options.rounds)
        print(result.description)
        for variant, seconds in result.step_s.items():
            print(f"  {variant}: {seconds * 1e3:.3f} ms per step")
        for label, a, b in result.extra_ratios:
            print(f"  {label}: {result.ratio(a, b):.2f}x")


if __name__ == "__main__":
    main()
