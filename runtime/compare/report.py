"""Render a `graphnet compare` results dict (docs/compare.md) as a report people look at.

`write_report(results, out_dir)` writes `report.html` (self-contained: CSS inline, every plot
embedded as a base64 PNG, no link to anything outside the file), `report.md` (the same
tables in GitHub Markdown, the plots as PNG files beside it) and those PNGs. Both documents
are rendered from one list of blocks (headings, paragraphs, `Table`s, `Plot`s), so they
cannot disagree. The conclusions are recomputed from the axes on every render (never read
from `results["summary"]`), so a sentence always matches the numbers beside it.
`render_terminal_summary(results, console, out_dir)` prints the short version.

    >>> paths = write_report(results, "graphnet-report")
    >>> [p.name for p in paths][:2]
    ['report.html', 'report.md']
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

from . import tables
from ._report_style import CSS, MARKS
from .conclusions import fmt_ratio, overall, summarize
from .plots import Plot, plots_by_axis
from .schema import validate
from .tables import Table

# axis -> (heading, what it measures)
SECTIONS = {
    "step_time": ("Step time", "Steady-state seconds per training step of each mode, the "
                  "variants interleaved in one process."),
    "compile": ("Compile cost and break-even", "What static mode's first call costs, where "
                "that time goes, and after how many steps it has paid for itself."),
    "scaling": ("Scaling", "Step time as the batch or the model grows: where dynamic mode's "
                "per-op overhead dominates and where the arithmetic does."),
    "memory": ("Memory", "Peak bytes of one training step in each mode."),
    "shapes": ("Shape variation", "A stream of inputs whose sequence length varies: static "
               "mode recompiles per new shape, padding to buckets bounds the compiles."),
    "flexibility": ("Flexibility", "Program features against modes; every cell comes from "
                    "running a small program in that mode."),
    "numerics": ("Numerics", "How far each mode's parameters drift from dynamic mode's "
                 "after the same training steps."),
    "data_parallel": ("Data parallel", "The compiled MLP step with its batch split over 1, 2, "
                      "4, 8 devices: step time, and the collectives XLA inserted."),
}
TABLES = {"step_time": tables.step_time_tables, "compile": tables.compile_tables,
          "scaling": tables.scaling_tables, "memory": tables.memory_tables,
          "shapes": tables.shapes_tables, "flexibility": tables.flexibility_table,
          "numerics": tables.numerics_tables, "data_parallel": tables.data_parallel_tables}


@dataclass
class Heading:
    text: str
    anchor: str = ""


@dataclass
class Paragraph:
    text: str
    css: str = ""


@dataclass
class Bullets:
    items: list
    css: str = ""


def build(results: dict) -> list:
    """The report as blocks, in reading order: header, conclusions, one section per axis."""
    machine, settings = results["machine"], results["settings"]
    axes = results.get("axes") or {}
    blocks = [Paragraph(f"{machine['summary']}. Run {results['created']}, preset "
                        f"{settings['preset']}.", "lead")]
    versions = ["platform", "processor", "cpus", "python", "jax", "jaxlib", "graphnet",
                "torch", "backend", "devices"]
    blocks.append(Table("Machine and versions", ["machine", "value"],
                        [[k, _plain(machine.get(k))] for k in versions], kind="text"))
    shown = {"preset": settings["preset"], "workloads": settings["workloads"],
             "axes": settings["axes"], "PyTorch": settings["torch"],
             "torch.compile": settings["torch_compile"], "seed": settings["seed"]}
    blocks.append(Table("Settings", ["setting", "value"],
                        [[k, _plain(v)] for k, v in shown.items()], kind="text"))
    workloads = results.get("workloads") or {}
    if workloads:
        blocks.append(Table("Workloads", ["workload", "description", "variants"],
                            [[n, w["description"], ", ".join(w["variants"])]
                             for n, w in workloads.items()], kind="text"))
    # data_parallel runs only in --full or when asked for: not "missing" otherwise
    missing = [a for a in SECTIONS if not axes.get(a)
               and (a != "data_parallel" or a in settings.get("axes", ()))]
    if missing:
        blocks.append(Paragraph("Not measured in this run: " + ", ".join(missing) + ".", "note"))
    rows = summarize(results)
    blocks += [Heading("Conclusions", "conclusions"), tables.summary_table(rows),
               Bullets([r["sentence"] for r in rows], "conclusions")]
    lines = overall(results)
    if lines:
        blocks += [Paragraph("Across workloads:"), Bullets(lines)]
    plots = plots_by_axis(results)
    for axis, (title, intro) in SECTIONS.items():
        if not axes.get(axis):
            continue
        blocks += [Heading(title, axis), Paragraph(intro)]
        blocks += _settings(axes[axis])
        blocks += TABLES[axis](results)
        blocks += plots.get(axis, [])
    return blocks


def _plain(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return str(value)


def _settings(axis: dict) -> list:
    """An axis's settings: short values on one line, long texts as notes of their own."""
    settings = dict(axis.get("settings") or {})
    short, long = [], []
    for key, value in settings.items():
        if isinstance(value, str) and len(value) > 60:
            long.append(f"{key}: {value}")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            long += value
        elif isinstance(value, (str, int, float, bool)) or (
                isinstance(value, list) and len(value) <= 8
                and all(isinstance(v, (str, int, float)) for v in value)):
            short.append(f"{key} {_plain(value)}")
    if "seconds" in axis:
        short.append(f"measured in {axis['seconds']:.1f} s")
    blocks = [Paragraph("Settings: " + "; ".join(short) + ".", "note")] if short else []
    return blocks + ([Bullets(long)] if long else [])


def write_report(results: dict, out_dir) -> list:
    """Write report.html, report.md and the PNGs into `out_dir`; return their paths."""
    validate(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    blocks = build(results)
    title = "graphnet compare: static vs dynamic graphs"
    written = [out / "report.html", out / "report.md"]
    written[0].write_text(to_html(blocks, title), encoding="utf-8")
    written[1].write_text(to_markdown(blocks, title), encoding="utf-8")
    for block in blocks:
        if isinstance(block, Plot):
            (out / block.filename).write_bytes(block.png)
            written.append(out / block.filename)
    return written


def to_markdown(blocks: list, title: str) -> str:
    lines = [f"# {title}", ""]
    for block in blocks:
        if isinstance(block, Heading):
            lines += [f"## {block.text}", ""]
        elif isinstance(block, Paragraph):
            lines += [f"_{block.text}_" if block.css == "note" else block.text, ""]
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            lines += [f"**{block.title}**", ""] + _md_table(block) + [""]
            lines += [f"_{block.note}_", ""] if block.note else []
        elif isinstance(block, Plot):
            lines += [f"![{_md(block.caption)}]({block.filename})", "", f"_{block.caption}_", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list:
    def row(cells):
        return "| " + " | ".join(_md(c) for c in cells) + " |"

    align = ["---"] + ["---:" if table.kind == "numbers" else "---" for _ in table.headers[1:]]
    out = [row(table.headers), "|" + "|".join(align) + "|"]
    for i, cells in enumerate(table.rows):
        classes = table.classes[i] if table.classes else [""] * len(cells)
        out.append(row([f"{MARKS[c]} {v}" if c in MARKS else v for c, v in zip(classes, cells)]))
    return out


def to_html(blocks: list, title: str) -> str:
    esc = html.escape
    headings = [b for b in blocks if isinstance(b, Heading)]
    nav = " ".join(f'<a href="#{esc(h.anchor)}">{esc(h.text)}</a>' for h in headings)
    body = [f"<h1>{esc(title)}</h1>", f"<nav>{nav}</nav>"]
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f'<h2 id="{esc(block.anchor)}">{esc(block.text)}</h2>')
        elif isinstance(block, Paragraph):
            css = f' class="{esc(block.css)}"' if block.css else ""
            body.append(f"<p{css}>{esc(block.text)}</p>")
        elif isinstance(block, Bullets):
            css = f' class="{esc(block.css)}"' if block.css else ""
            body.append(f"<ul{css}>" + "".join(f"<li>{esc(i)}</li>" for i in block.items)
                        + "</ul>")
        elif isinstance(block, Table):
            body.append(_html_table(block))
        elif isinstance(block, Plot):
            data = base64.b64encode(block.png).decode("ascii")
            body.append(f'<figure><img src="data:image/png;base64,{data}" '
                        f'alt="{esc(block.caption)}"><figcaption>{esc(block.caption)}'
                        "</figcaption></figure>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def _html_table(table: Table) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in table.headers)
    rows = []
    for i, cells in enumerate(table.rows):
        classes = table.classes[i] if table.classes else [""] * len(cells)
        tds = [f'<td class="{esc(c)}">{esc(v)}</td>' if c else f"<td>{esc(v)}</td>"
               for c, v in zip(classes, cells)]
        rows.append("<tr>" + "".join(tds) + "</tr>")
    note = f'<p class="note">{esc(table.note)}</p>' if table.note else ""
    return (f'<div class="table"><p class="caption">{esc(table.title)}</p>'
            f'<div class="scroll"><table class="{esc(table.kind)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>{note}</div>")


def render_terminal_summary(results: dict, console=None, out_dir=None) -> None:
    """A short table in the terminal (per workload: who wins, by how much, break-even,
    memory) and where the report is."""
    from rich.console import Console
    from rich.table import Table as RichTable

    console = console or Console()
    table = RichTable(title=f"graphnet compare: {results['machine']['summary']}",
                      title_justify="left")
    for column in ("workload", "faster per step", "speedup", "break-even (steps)",
                   "memory dynamic/static"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    for row in summarize(results):
        table.add_row(row["workload"], row["winner"] or "-",
                      fmt_ratio(row["speedup"]) if row["speedup"] else "-",
                      "-" if row["break_even_steps"] is None else str(row["break_even_steps"]),
                      fmt_ratio(row["memory_ratio"]) if row["memory_ratio"] else "-")
    console.print(table)
    if out_dir is not None:
        console.print(f"report: {Path(out_dir) / 'report.html'} (also report.md, "
                      "results.json)")
