"""The `graphnet compare` report: files written, HTML self-contained, Markdown beside its
PNGs, re-rendering from JSON, the conclusions' arithmetic and wording, the schema checker.
Rendered from tests/compare_fixture.py (numbers of a realistic run, nothing measured)."""

import base64
import copy
import json
import math
import re
from html.parser import HTMLParser

import matplotlib
import pytest
from compare_fixture import make_results
from rich.console import Console

from graphnet.runtime.compare import report
from graphnet.runtime.compare.conclusions import break_even_steps, overall, summarize
from graphnet.runtime.compare.schema import validate

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    results = make_results()
    before = dict(matplotlib.rcParams)
    paths = report.write_report(results, out)
    assert dict(matplotlib.rcParams) == before, "rendering changed matplotlib's global style"
    return results, out, paths


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links, self.tags = [], [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href", "srcset", "data", "action"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])


def test_write_report_writes_html_markdown_and_every_plot(rendered):
    _, out, paths = rendered
    names = [p.name for p in paths]
    assert names[:2] == ["report.html", "report.md"]
    expected = {"step_time.png", "compile_phases.png", "compile_cache.png", "memory.png",
                "break_even_lstm-lm.png", "scaling_mlp_batch.png", "shapes_transformer.png"}
    assert expected <= set(names)
    for path in paths:
        assert path.parent == out and path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes().startswith(PNG_MAGIC)


def test_html_embeds_every_plot_and_references_nothing_outside(rendered):
    _, out, paths = rendered
    text = (out / "report.html").read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(text)
    pngs = [p for p in paths if p.suffix == ".png"]
    assert len(parser.images) == len(pngs)
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(PNG_MAGIC)
    assert all(link.startswith("#") for link in parser.links), parser.links
    assert not parser.tags & {"script", "link", "iframe", "object", "embed"}
    assert "http://" not in text and "https://" not in text and "url(" not in text
    # machine and versions first, then the conclusions before any axis
    assert text.index("x86_64, 2 cpus") < text.index('id="conclusions"') < text.index(
        'id="step_time"')


def test_markdown_references_png_files_beside_it(rendered):
    _, out, paths = rendered
    text = (out / "report.md").read_text(encoding="utf-8")
    referenced = re.findall(r"\]\(([^)\s]+\.png)\)", text)
    assert sorted(referenced) == sorted(p.name for p in paths if p.suffix == ".png")
    assert all((out / name).is_file() and "/" not in name for name in referenced)
    assert "| workload | graphnet dynamic (ms) | graphnet static (ms) |" in text


def test_rerender_from_json_gives_the_same_tables_and_plots(rendered, tmp_path):
    results, out, paths = rendered
    again = json.loads(json.dumps(results))
    report.write_report(again, tmp_path)
    assert (tmp_path / "report.md").read_text() == (out / "report.md").read_text()
    for path in paths[2:]:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_missing_axes_and_no_torch_render(tmp_path):
    results = make_results(torch=False, drop_axes=("memory", "scaling"),
                           workloads=["tiny", "lstm-lm"])
    names = [p.name for p in report.write_report(results, tmp_path)]
    assert "memory.png" not in names and "shapes_lstm-lm.png" in names
    text = (tmp_path / "report.md").read_text()
    assert "Not measured in this run: scaling, memory." in text
    assert "PyTorch eager (" not in text and "## Memory" not in text


@pytest.mark.parametrize("axis", ["step_time", "compile", "scaling", "memory", "shapes",
                                  "flexibility", "numerics"])
def test_each_axis_may_be_missing_or_null(axis, monkeypatch):
    monkeypatch.setattr(report, "plots_by_axis", lambda results: {})   # tables and text only
    results = make_results(drop_axes=(axis,))
    markdown = report.to_markdown(report.build(results), "t")
    assert f"## {report.SECTIONS[axis][0]}\n" not in markdown
    results = make_results()
    results["axes"][axis] = None
    validate(results)
    markdown = report.to_markdown(report.build(results), "t")
    assert f"## {report.SECTIONS[axis][0]}\n" not in markdown
    assert len(summarize(results)) == len(results["workloads"])


def test_text_is_escaped_in_html(monkeypatch):
    monkeypatch.setattr(report, "plots_by_axis", lambda results: {})
    results = make_results(workloads=["mlp"])
    results["workloads"]["mlp"]["description"] = "<script>alert('x')</script> & more"
    page = report.to_html(report.build(results), "t")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_terminal_summary_names_each_workload_and_the_report():
    console = Console(record=True, width=120)
    report.render_terminal_summary(make_results(), console, "out-dir")
    text = console.export_text()
    assert all(name in text for name in ("mlp", "lstm-lm", "transformer"))
    assert "out-dir/report.html" in text


# ---- conclusions: arithmetic and wording -----------------------------------------------------
def _results(static=1e-3, dynamic=3e-3, first=(0.42, 0.1), break_even=57, memory=1.8,
             horizon=10**6):
    compiled = {"first_call_s": {"static": first[0], "dynamic": first[1]},
                "step_s": {"static": static, "dynamic": dynamic} if static else {}}
    if break_even != "absent":
        compiled["break_even"] = {"steps": break_even, "curve_steps": [1, 10, 100],
                                  "static_total_s": [1.0] * 3, "dynamic_total_s": [1.0] * 3}
    axes = {"compile": {"settings": {"horizon_steps": horizon}, "workloads": {"w": compiled}}}
    if static is not None:
        axes["step_time"] = {"workloads": {"w": {"variants": {
            v: {"samples_s": [t], "median_s": t, "min_s": t, "max_s": t}
            for v, t in (("static", static), ("dynamic", dynamic))}}}}
    if memory is not None:
        axes["memory"] = {"workloads": {"w": {"ratio_dynamic_over_static": memory}}}
    return {"settings": {"workloads": ["w"]}, "workloads": {"w": {}}, "axes": axes}


def test_static_wins_with_break_even_and_memory_ratio():
    (row,) = summarize(_results())
    assert (row["winner"], row["break_even_steps"], row["memory_ratio"]) == ("static", 57, 1.8)
    assert row["speedup"] == pytest.approx(3.0)
    assert row["sentence"] == ("w: static is 3.00x faster than dynamic per step (1 ms vs 3 ms); "
                               "static's first call takes 420 ms and pays off after 57 steps; "
                               "dynamic peaks at 1.80x static's memory.")


def test_dynamic_wins_when_static_is_slower():
    (row,) = summarize(_results(static=4.5e-3, dynamic=3e-3, break_even=None, memory=0.5))
    assert row["winner"] == "dynamic" and row["speedup"] == pytest.approx(1.5)
    assert "dynamic is 1.50x faster than static per step (3 ms vs 4.5 ms)" in row["sentence"]
    assert "static's 420 ms first call never pays off" in row["sentence"]
    assert "dynamic peaks at 0.50x static's memory, less than static" in row["sentence"]


def test_no_break_even_within_the_horizon_is_said():
    (row,) = summarize(_results(static=2.9e-3, first=(4.0, 0.1), break_even=None))
    assert row["winner"] == "static" and row["break_even_steps"] is None
    assert "static is 1.03x" not in row["sentence"]   # below 1.05x: no winner claimed
    assert "about the same time per step (1.03x: 2.9 ms vs 3 ms)" in row["sentence"]
    assert "does not pay off within 1,000,000 steps" in row["sentence"]


def test_static_ahead_from_the_first_call_and_cheaper_static_first_call_losing_later():
    (row,) = summarize(_results(first=(0.05, 0.1), break_even=1))
    assert "static is ahead in total time from the first call" in row["sentence"]
    (row,) = summarize(_results(static=4e-3, dynamic=3e-3, first=(0.05, 0.1), break_even=None))
    k = break_even_steps(0.1, 3e-3, 0.05, 4e-3)
    assert f"dynamic's total drops below static's after about {k} steps" in row["sentence"]


def test_missing_numbers_give_no_claim():
    (row,) = summarize(_results(static=None, memory=None))
    assert row["winner"] is None and row["speedup"] is None and row["memory_ratio"] is None
    assert "were not measured" in row["sentence"] and "peaks" not in row["sentence"]


def test_break_even_steps_matches_adding_up_the_totals():
    assert break_even_steps(0.5, 0.001, 0.1, 0.003) == 202
    assert break_even_steps(0.05, 0.002, 0.1, 0.001) == 1   # cheaper first call: ahead at once
    assert break_even_steps(0.5, 0.003, 0.1, 0.003) is None
    for fs, ss, fd, sd in [(0.42, 1e-3, 0.1, 3e-3), (2.4, 1.7e-3, 0.95, 47e-3),
                           (0.27, 36e-6, 0.09, 0.92e-3), (1.0, 0.25, 0.0, 0.5)]:
        n = break_even_steps(fs, ss, fd, sd)
        assert fs + (n - 1) * ss < fd + (n - 1) * sd
        assert fs + (n - 2) * ss >= fd + (n - 2) * sd


def test_overall_wording_follows_the_ratio():
    results = _results(static=1e-3, dynamic=3e-3)
    for variants in (results["axes"]["step_time"]["workloads"]["w"]["variants"],):
        variants["jax"] = {"samples_s": [2e-3], "median_s": 2e-3, "min_s": 2e-3, "max_s": 2e-3}
    (line,) = overall(results)
    assert "static takes 0.50x the step time, faster (median over 1 workload)" in line


def test_fixture_sentences_quote_their_rows_numbers():
    results = make_results()
    for row in summarize(results):
        assert f"{row['speedup']:.2f}x" in row["sentence"] or f"{row['speedup']:.1f}x" in \
            row["sentence"]
        if row["break_even_steps"] is not None:
            assert f"after {row['break_even_steps']} steps" in row["sentence"]
        assert f"{row['memory_ratio']:.2f}x static's memory" in row["sentence"]


# ---- schema ------------------------------------------------------------------------------------
def test_validate_accepts_the_fixture_with_and_without_torch():
    validate(make_results())
    validate(json.loads(json.dumps(make_results(torch=False, drop_axes=("compile",)))))


@pytest.mark.parametrize("edit, path", [
    (lambda r: r["axes"]["step_time"]["workloads"]["mlp"]["variants"]["static"].update(
        median_s="fast"), "results.axes.step_time.workloads.mlp.variants.static.median_s"),
    (lambda r: r["machine"].pop("cpus"), "results.machine.cpus: missing"),
    (lambda r: r.update(schema="graphnet-compare/0"), "results.schema"),
    (lambda r: r["axes"]["flexibility"]["features"][2]["cells"]["static"].update(
        outcome="maybe"), "results.axes.flexibility.features[2].cells.static.outcome"),
    (lambda r: r["axes"]["scaling"]["curves"][0]["variants"]["static"].pop(),
     "results.axes.scaling.curves[0].variants.static"),
    (lambda r: r["axes"]["memory"]["workloads"]["tiny"]["static"].update(temp_bytes=math.nan),
     "results.axes.memory.workloads.tiny.static.temp_bytes"),
    (lambda r: r["settings"].update(torch="yes"), "results.settings.torch"),
])
def test_validate_names_the_bad_key(edit, path):
    results = copy.deepcopy(make_results())
    edit(results)
    with pytest.raises(ValueError) as err:
        validate(results)
    assert str(err.value).startswith(path), str(err.value)


def test_the_cache_table_shows_the_jax_twin_where_a_workload_has_one():
    from graphnet.runtime.compare.tables import compile_tables

    results = make_results()
    table = [t for t in compile_tables(results) if t.title.startswith("First call, cold")][0]
    assert table.headers[0] == "workload" and "jax.jit warm cache (ms)" in table.headers
    rows = {row[0]: dict(zip(table.headers, row)) for row in table.rows}
    cache = results["axes"]["compile"]["workloads"]["mlp"]["cache"]
    assert float(rows["mlp"]["jax.jit warm cache (ms)"]) == pytest.approx(
        cache["warm_first_call_s"]["jax"] * 1e3, rel=0.01)
    assert rows["lenet"]["jax.jit warm cache (ms)"] == "-"   # no twin timed there
