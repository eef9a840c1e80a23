"""Build the living review: tables, pooled analyses, figures, R scripts and every output format."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from postcart.evidence import Evidence, load
from postcart.report.exports import table_csv, workbook
from postcart.report.html import render_html
from postcart.report.markdown import render_markdown
from postcart.report.model import STEPS, Progress, Report, assemble, no_progress
from postcart.report.rscript import r_script
from postcart.report.versions import plan, previous_results, record

__all__ = ["STEPS", "Progress", "Report", "assemble", "build_report"]


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def build_report(
    out_dir: Path | str,
    *,
    evidence: Evidence | None = None,
    data_dir: Path | None = None,
    compare_to: Path | None = None,
    progress: Progress = no_progress,
    trigger: str | None = None,
) -> Report:
    """Write the report to ``out_dir``: index.html, report.md, tables/, figures/, analyses/.

    Same evidence (and same ``compare_to``) ⇒ byte-identical files: no wall-clock time,
    fixed SVG hash salt, no PDF/PNG dates, fixed zip entry times.

    Each build is a living version (``report.versions``): without ``compare_to``, a build whose
    inputs changed since the folder's last version is compared with that version, and
    ``trigger`` (a note on why this update was made) is recorded with it.
    """
    out = Path(out_dir)
    ev = evidence if evidence is not None else load(data_dir)
    version = plan(out, data_dir, trigger)
    since = previous_results(out, version) if compare_to is None else None
    report = assemble(ev, data_dir=data_dir, compare_to=compare_to or since, progress=progress)
    changes = report.changes
    if changes is not None and since is not None:
        changes = replace(changes, since_version=version.previous, trigger=version.trigger)
    report = replace(report, version=version, changes=changes)
    progress("scripts")
    for analysis in report.analyses:
        if analysis.pooled:
            _write(out / "analyses" / f"{analysis.name}.R", r_script(analysis))
    progress("documents")
    for name, formats in report.figures.items():
        for fmt, data in formats.items():
            _write(out / "figures" / f"forest_{name}.{fmt}", data)
    for name, formats in report.rob_figures.items():
        for fmt, data in formats.items():
            _write(out / "figures" / f"{name}.{fmt}", data)
    for table in report.tables:
        _write(out / "tables" / f"{table.name}.csv", table_csv(table, report.refs))
    _write(out / "tables" / "report_tables.xlsx", workbook(list(report.tables), report.refs))
    _write(out / "results.json", json.dumps(report.results(), indent=2, sort_keys=True) + "\n")
    _write(out / "report.md", render_markdown(report))
    _write(out / "index.html", render_html(report))
    record(out, version)
    return report
