"""The `graphnet` command: `graphnet compare`, `graphnet bench` and `graphnet dump`."""

from __future__ import annotations

import argparse
import json
import sys


def _bench(args) -> int:
    from . import bench
    from .workloads import WORKLOADS

    names = args.models or ["mlp"]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        print(f"unknown model(s) {unknown}; choose from {sorted(WORKLOADS)}", file=sys.stderr)
        return 2
    steps, rounds = (3, 2) if args.quick else (args.steps, args.rounds)
    if args.torch_threads and not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.torch_threads)
        except ImportError:
            pass
    results = []
    for name in names:
        workload = WORKLOADS[name](torch=not args.no_torch)
        result = bench.run(workload, steps=steps, rounds=rounds)
        bench.render(result)
        results.append(result.to_dict())
        for label, a, b in result.ratio_labels():
            value = result.ratio(a, b)
            if value is not None:
                print(f"  {label}: {value:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def _compare(args) -> int:
    import os

    from rich.console import Console

    console = Console(width=110)
    if args.from_json:
        try:
            with open(args.from_json) as f:
                results = json.load(f)
        except (OSError, ValueError) as err:
            print(f"graphnet compare: cannot read {args.from_json}: {err}", file=sys.stderr)
            return 2
        out = args.out or os.path.dirname(os.path.abspath(args.from_json))
    else:
        from .compare._axis import Context
        from .compare.study import WORKLOADS, run_study

        if args.torch_threads and not args.no_torch:
            try:
                import torch

                torch.set_num_threads(args.torch_threads)
            except ImportError:
                pass
        preset = "quick" if args.quick else "full" if args.full else "default"
        ctx = Context(preset=preset, workloads=args.workloads or WORKLOADS[preset],
                      torch=not args.no_torch, torch_compile=args.with_torch_compile)
        axes = args.axes.split(",") if args.axes else None
        try:
            results = run_study(ctx, axes, console=console)
        except ValueError as err:
            print(f"graphnet compare: error: {err}", file=sys.stderr)
            return 2
        out = args.out or "graphnet-report"
    from .compare import conclusions, report, schema

    try:
        schema.validate(results)
    except ValueError as err:
        print(f"graphnet compare: {args.from_json or 'results'}: {err}", file=sys.stderr)
        return 2
    results["summary"] = conclusions.summarize(results)
    os.makedirs(out, exist_ok=True)
    if not args.from_json or os.path.abspath(out) != os.path.dirname(
            os.path.abspath(args.from_json)):
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
    report.write_report(results, out)
    report.render_terminal_summary(results, console, out)
    return 0


def _dump(args) -> int:
    from graphnet.compiler.dumps import GraphvizNotFound

    from .dump import DumpError, dump, dump_to_file

    try:
        if args.out:
            written = dump_to_file(args.target, args.format, args.out, args.batch, args.train,
                                   args.devices, args.sharding)
            print(f"wrote {written}")
        else:
            print(dump(args.target, args.format, batch=args.batch, train=args.train,
                       devices=args.devices, sharding=args.sharding))
    except DumpError as err:
        print(f"graphnet dump: error: {err}", file=sys.stderr)
        return 2
    except GraphvizNotFound as err:
        print(f"graphnet dump: {err}", file=sys.stderr)
        return 1
    return 0


def _simulate_devices(argv) -> None:
    """`graphnet dump ... --devices N` on a CPU: ask XLA for N host devices. It must happen
    before JAX starts its backend, which importing graphnet does not do."""
    import os

    if "--devices" not in argv or "jax" in sys.modules and _backend_started():
        return
    n = argv[argv.index("--devices") + 1] if argv.index("--devices") + 1 < len(argv) else ""
    flags = os.environ.get("XLA_FLAGS", "")
    if n.isdigit() and "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()


def _positive(text: str) -> int:
    """argparse's type for counts (steps, rounds, batch, devices): a whole number >= 1
    (`--steps 0` divided by zero, `--steps -1` printed negative times as results)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _backend_started() -> bool:
    from jax._src import xla_bridge

    return bool(getattr(xla_bridge, "_backends", None))


def main(argv=None) -> int:
    _simulate_devices(list(sys.argv[1:] if argv is None else argv))
    parser = argparse.ArgumentParser(prog="graphnet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="time dynamic vs static vs jax.jit vs PyTorch eager")
    b.add_argument("models", nargs="*", help="workloads (default: mlp)")
    b.add_argument("--steps", type=_positive, default=20, help="steps per timed round")
    b.add_argument("--rounds", type=_positive, default=7,
                   help="interleaved rounds (median reported)")
    b.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds of 3 steps")
    b.add_argument("--no-torch", action="store_true", help="skip the PyTorch eager variant")
    b.add_argument("--torch-threads", type=int, default=None,
                   help="torch.set_num_threads for the PyTorch variant (default: torch's own); "
                        "1 avoids OpenMP spin-waits when the machine's other cores are busy")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=_bench)
    c = sub.add_parser("compare", help="measure static vs dynamic on every axis and write "
                                       "a report (HTML, Markdown, JSON)")
    c.add_argument("workloads", nargs="*", help="workloads (default: the preset's)")
    c.add_argument("--out", help="report folder (default: graphnet-report/)")
    size = c.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a smoke run, well under a minute")
    size.add_argument("--full", action="store_true", help="every workload and size")
    c.add_argument("--axes", help="comma-separated subset of: step_time, compile, scaling, "
                                  "memory, shapes, flexibility, data_parallel (default: all "
                                  "but data_parallel; --full adds it)")
    c.add_argument("--from", dest="from_json", metavar="RESULTS_JSON",
                   help="re-render a report from a results.json, measuring nothing")
    c.add_argument("--no-torch", action="store_true", help="skip the PyTorch variants")
    c.add_argument("--with-torch-compile", action="store_true",
                   help="also time torch.compile where a workload offers it")
    c.add_argument("--torch-threads", type=int, default=None,
                   help="torch.set_num_threads for the PyTorch variants (default: torch's "
                        "own); 1 avoids OpenMP spin-waits on a busy machine")
    c.set_defaults(func=_compare)
    from .dump import FORMATS  # light: the dump module imports graphnet only when it runs

    d = sub.add_parser("dump", help="print a model's traced graph (or its training step's)")
    d.add_argument("target", help="a built-in model (mlp) or FILE.py:NAME (an nn.Module, a "
                                  "Module class, or a function returning (module, inputs))")
    d.add_argument("--format", default="text",
                   choices=list(FORMATS),
                   help="text: the IR; table: one row per value; code: runnable Python; dot: "
                        "Graphviz; json: versioned JSON; plan: the fused kernels and planned "
                        "peak vs XLA's memory analysis; hlo: StableHLO, optimized HLO, cost "
                        "and memory (see docs/dumps.md)")
    d.add_argument("--out", help="write to this file instead of printing; with --format dot "
                                 "an .svg/.png path is drawn with Graphviz")
    d.add_argument("--train", action="store_true",
                   help="dump the whole training step (forward, backward, SGD update) with a "
                        "cross-entropy loss instead of the forward")
    d.add_argument("--batch", type=_positive, default=128, help="batch size of the example inputs")
    d.add_argument("--devices", type=_positive, default=None,
                   help="with --format plan|hlo: compile for a mesh of N devices (the batch "
                        "split over them) and show the layouts and XLA's collectives; on a "
                        "CPU the devices are simulated")
    d.add_argument("--sharding", default="replicated", choices=["replicated", "fsdp"],
                   help="with --devices: state replicated (DDP) or split (fsdp)")
    d.set_defaults(func=_dump)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
