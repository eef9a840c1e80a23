"""The report as Markdown: the same tables, numbers carrying footnote markers to their quotes."""

from __future__ import annotations

from postcart.report.cells import Cell, ReportTable
from postcart.report.certainty.section import caption
from postcart.report.model import Report


def _cell(cell: Cell, numbers: dict[str, int]) -> str:
    text = cell.text.replace("|", "\\|").replace("\n", " ")
    if cell.ref and text:
        text += f"[^{numbers[cell.ref]}]"
    return text


def _table(table: ReportTable, numbers: dict[str, int]) -> list[str]:
    lines = [f"## {table.title}", "", f"*Method:* {table.method}", ""]
    if not table.rows:
        return [*lines, "_No data in the evidence base._", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    lines += ["| " + " | ".join(_cell(c, numbers) for c in row) + " |" for row in table.rows]
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    """Markdown text of the whole report."""
    refs = report.refs.ordered()
    numbers = {ref.anchor: i + 1 for i, ref in enumerate(refs)}
    lines = [
        "# Relapse after CD19 CAR T: the living review",
        "",
        f"Built from {report.snapshot.label}; content hash `{report.snapshot.content_hash}`.",
        "",
    ]
    if report.version is not None:
        v = report.version
        kept = f" (previous: version {v.previous})" if v.previous else ""
        lines += [f"Living version {v.number}{kept}; triggered by: {'; '.join(v.trigger)}.", ""]
    if report.changes is not None:
        c = report.changes
        lines += [f"## {c.heading}", ""]
        lines += [f"- {line}" for line in c.lines()]
        lines.append("")
    for table in report.tables:
        lines += _table(table, numbers)
    lines += ["## Forest plots", ""]
    lines += [f"![{name}](figures/forest_{name}.svg)" for name in report.figures]
    if report.rob_figures:
        lines += ["", "## Risk-of-bias plots", ""]
        lines += [f"![{caption(name)}](figures/{name}.svg)" for name in report.rob_figures]
    lines += ["", "## Provenance", ""]
    lines += [f"[^{numbers[r.anchor]}]: {r.as_text()}" for r in refs]
    return "\n".join(lines) + "\n"
