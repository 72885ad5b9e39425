"""What donating a static step's buffers costs or buys: one workload's static step run with
three donation policies, timed interleaved in one process, against PyTorch eager.

    python -m graphnet.runtime.donation_bench resnet18-train lenet mlp

- `read-once` (graphnet's policy): the written state the graph reads at most once
  (momentum, Adam's moments, running statistics);
- `written`: every buffer the step overwrites, parameters included;
- `none`: nothing; every output gets a fresh buffer;
- the refinement's own set where it chose one (runtime/refine.py): `uncopied`, the written
  buffers XLA updates in place.

The policies share one model and one traced program: each variant puts its own jitted
executable on the program's Artifact before it runs (runtime/artifact.py `Artifact.written`,
`Artifact.donated`), so only the donation differs."""

from __future__ import annotations

import argparse

from . import bench
from .donation_order import paired_jit
from .workloads import WORKLOADS, Workload

POLICIES = ("read-once", "written", "none")


def _artifact(workload: Workload):
    """The steady-state program of the workload's static step (after the state-creating
    first call and its retrace)."""
    for _ in range(3):
        workload.variants["static"]()
    return workload.compiled["static"].compiled.artifacts[-1]


def donation_workload(name: str, torch: bool = True) -> Workload:
    """Workload `name` with a `static-<policy>` variant per policy, and `torch` when
    installed; the ratios are each policy's step over graphnet's own (`read-once`)."""
    from graphnet import _xla

    built = WORKLOADS[name](torch=torch)
    artifact = _artifact(built)
    options = {"option_set": artifact.xla_options} if artifact.refinement else {}
    donated = {"read-once": list(artifact.read_once), "written": list(artifact.written),
               "none": []}
    refined = artifact.refinement.donation if artifact.refinement else "read-once"
    if refined not in donated:   # the refinement's own set ("uncopied")
        donated[refined] = list(artifact.donated)
    step, block = built.variants["static"], built.blockers["static"]
    variants, blockers = {}, {}
    for policy in donated:
        jitted = paired_jit(_xla.jit, artifact.run_fn, donated[policy], artifact.into,
                            has_conv=artifact.has_conv, program=True, **options)

        def run(jitted=jitted, indices=donated[policy]):
            # each policy's own program, without the old gradients' buffers (Artifact.recycle)
            artifact.jitted, artifact.donated, artifact.recycling = jitted, indices, None
            return step()
        variants[f"static-{policy}"], blockers[f"static-{policy}"] = run, block
    if "torch" in built.variants:
        variants["torch"], blockers["torch"] = built.variants["torch"], built.blockers["torch"]
    ratios = [(f"{policy} / read-once", f"static-{policy}", "static-read-once")
              for policy in donated if policy != "read-once"]
    counts = ", ".join(f"{policy} {len(indices)}" for policy, indices in donated.items())
    description = f"{built.description}: donated buffers per policy ({counts})"
    return Workload(f"{name}-donation", description, variants, blockers, ratios)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=["resnet18-train"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=9)
    options = parser.parse_args(argv)
    for name in options.workloads:
        bench.render(bench.run(donation_workload(name), options.steps, options.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
