"""The report's look: the inline stylesheet of report.html, and the marks report.md puts
before a flexibility cell (Markdown has no cell colours). No web fonts, no external
resources: the page must open offline and look the same."""

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --head: #f0f3f6; }
body { margin: 0; background: #f3f4f6; color: var(--ink); line-height: 1.5;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
                    sans-serif; }
main { max-width: 1060px; margin: 0 auto; padding: 28px 40px 60px; background: #fff; }
h1 { font-size: 1.9em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.4em; margin-top: 2.2em; padding-bottom: 0.2em;
     border-bottom: 2px solid var(--line); }
nav { margin: 0.4em 0 1.4em; font-size: 0.95em; }
nav a { margin-right: 1.1em; color: #0969da; text-decoration: none; }
nav a:hover { text-decoration: underline; }
p.lead { font-size: 1.05em; color: var(--muted); }
p.note { color: var(--muted); font-size: 0.88em; margin: 0.3em 0; }
p.caption { font-weight: 600; margin: 1.2em 0 0.3em; }
ul { padding-left: 1.3em; }
li { margin: 0.25em 0; }
ul.conclusions { background: #eef6ff; border-left: 4px solid #0072b2;
                  padding: 0.6em 1em 0.6em 2em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 4px 10px; vertical-align: top; }
th { background: var(--head); font-weight: 600; text-align: center; }
table.numbers td { text-align: right; white-space: nowrap; }
table.numbers td:first-child { text-align: left; }
table.numbers tr:nth-child(even) td { background: #fafbfc; }
table.text td { text-align: left; }
table.matrix td { text-align: left; max-width: 300px; font-size: 0.95em; }
table.matrix td.feature { font-weight: 500; max-width: 260px; }
table.matrix td.outcome-runs { background: #dafbe1; }
table.matrix td.outcome-recompiles { background: #fff1c2; }
table.matrix td.outcome-refused { background: #ddeaff; }
table.matrix td.outcome-differs { background: #ffd1cf; font-weight: 700; }
figure { margin: 1.4em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: var(--muted); font-size: 0.9em; margin-top: 0.3em; }
"""

MARKS = {"outcome-runs": "🟢", "outcome-recompiles": "🟡", "outcome-refused": "🔵",
         "outcome-differs": "🔴"}
