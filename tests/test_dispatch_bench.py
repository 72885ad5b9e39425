"""The dispatch benchmark runs end to end in quick mode (its numbers are not checked)."""

from graphnet.runtime import dispatch_bench


def test_dispatch_bench_quick_runs():
    rows = dispatch_bench.run(quick=True, cases=("chain", "tiny"))
    assert [r["case"].split(" ")[0] for r in rows] == ["add", "add", "tiny"]
    for row in rows:
        assert row["graphnet"] > 0
    assert "ratio" in dispatch_bench.format_rows(rows)
