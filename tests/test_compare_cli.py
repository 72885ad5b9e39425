"""`graphnet compare` end to end: the quick preset writes the three files, and `--from`
re-renders the same report from results.json without measuring."""

from __future__ import annotations

import json

from compare_fixture import make_results

from graphnet.runtime import cli


def test_quick_run_writes_report_and_from_rerenders_it(tmp_path, capsys):
    out = tmp_path / "report"
    assert cli.main(["compare", "--quick", "tiny", "--out", str(out)]) == 0
    for name in ("report.html", "report.md", "results.json"):
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text())
    assert results["schema"] == "graphnet-compare/1"
    assert set(results["axes"]) >= {"step_time", "numerics", "compile", "scaling", "memory",
                                    "shapes", "flexibility"}
    assert [row["workload"] for row in results["summary"]] == ["tiny"]
    step = results["axes"]["step_time"]["workloads"]["tiny"]["variants"]
    assert {"dynamic", "static", "jax"} <= set(step)
    # no cell of the flexibility matrix may be a silent wrong answer
    cells = [cell["outcome"] for feature in results["axes"]["flexibility"]["features"]
             for cell in feature["cells"].values()]
    assert "differs" not in cells
    assert "report.html" in capsys.readouterr().out

    again = tmp_path / "again"
    assert cli.main(["compare", "--from", str(out / "results.json"), "--out", str(again)]) == 0
    assert (again / "report.md").read_text() == (out / "report.md").read_text()
    assert json.loads((again / "results.json").read_text())["axes"] == results["axes"]


def test_bad_requests_fail_with_a_message(tmp_path, capsys):
    assert cli.main(["compare", "--quick", "no-such-model", "--out", str(tmp_path)]) == 2
    assert "unknown workload" in capsys.readouterr().err
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps(make_results() | {"schema": "graphnet-compare/0"}))
    assert cli.main(["compare", "--from", str(bad)]) == 2
    assert "results.schema" in capsys.readouterr().err
    bad.write_text("{not json")
    assert cli.main(["compare", "--from", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
