"""Build the living review: tables, pooled analyses, figures, R scripts and every output format."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postcart.evidence import Evidence, load
from postcart.report.analyses import (
    ProductComparison,
    cart_analyses,
    product_comparisons,
    salvage_analyses,
)
from postcart.report.cells import RefBook, ReportTable
from postcart.report.compare import Changes, compare
from postcart.report.exports import table_csv, workbook
from postcart.report.lacked import loo_table, pooled_table, product_table
from postcart.report.plots.forest import render
from postcart.report.pooling import Pooled
from postcart.report.rscript import r_script
from postcart.report.salvage_table import salvage_table
from postcart.report.snapshot import Snapshot, snapshot
from postcart.report.table2 import summary_table
from postcart.report.tables import product_table as products_table
from postcart.report.tables import realworld_table

#: Called as ``progress(step_description)`` before each step; the CLI draws a bar from it.
Progress = Callable[[str], None]
STEPS = ("tables", "pooling", "figures", "scripts", "documents")


@dataclass(frozen=True)
class Report:
    """Everything the writers need; built once, rendered to every format."""

    snapshot: Snapshot
    tables: tuple[ReportTable, ...]
    analyses: tuple[Pooled, ...]
    comparisons: tuple[ProductComparison, ...]
    figures: dict[str, dict[str, bytes]]
    refs: RefBook
    changes: Changes | None

    def results(self) -> dict[str, Any]:
        """``results.json``: the snapshot, the studies, every analysis's numbers."""
        studies = sorted({row.study_key for a in self.analyses for row in a.rows})
        return {
            "snapshot": self.snapshot.to_dict(),
            "studies": studies,
            "analyses": {a.name: a.to_dict() for a in self.analyses},
            "product_comparisons": {c.name: c.to_dict() for c in self.comparisons},
            "changes": None if self.changes is None else self.changes.to_dict(),
        }


def _noop(_: str) -> None:
    return None


def assemble(
    evidence: Evidence,
    *,
    data_dir: Path | None = None,
    compare_to: Path | None = None,
    progress: Progress = _noop,
) -> Report:
    """Compute the report's content (no files written)."""
    refs = RefBook()
    progress("tables")
    base = [products_table(evidence, refs), summary_table(evidence, refs),
            realworld_table(evidence, refs), salvage_table(evidence, refs)]  # fmt: skip
    progress("pooling")
    cart = cart_analyses(evidence)
    salvage = salvage_analyses(evidence)
    comparisons = product_comparisons(evidence)
    lacked = [
        pooled_table("pooled_cart", "Pooled real-world CAR T outcomes (LBCL)", cart, refs),
        product_table(comparisons),
        pooled_table(
            "pooled_salvage", "Salvage therapies after CAR T, side by side", salvage, refs
        ),
        loo_table(cart + salvage),
    ]
    progress("figures")
    analyses = tuple(cart + salvage)
    figures = {a.name: render(a) for a in analyses if a.pooled}
    snap = snapshot(evidence, data_dir)
    report = Report(snap, tuple(base + lacked), analyses, tuple(comparisons), figures, refs, None)
    if compare_to is not None:
        old = json.loads(Path(compare_to).read_text(encoding="utf-8"))
        changes = compare(old, report.results())
        report = Report(snap, report.tables, analyses, report.comparisons, figures, refs, changes)
    return report


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
    progress: Progress = _noop,
) -> Report:
    """Write the report to ``out_dir``: index.html, report.md, tables/, figures/, analyses/.

    Same evidence (and same ``compare_to``) ⇒ byte-identical files: no wall-clock time,
    fixed SVG hash salt, no PDF/PNG dates, fixed zip entry times.
    """
    from postcart.report.html import render_html
    from postcart.report.markdown import render_markdown

    out = Path(out_dir)
    ev = evidence if evidence is not None else load(data_dir)
    report = assemble(ev, data_dir=data_dir, compare_to=compare_to, progress=progress)
    progress("scripts")
    for analysis in report.analyses:
        if analysis.pooled:
            _write(out / "analyses" / f"{analysis.name}.R", r_script(analysis))
    progress("documents")
    for name, formats in report.figures.items():
        for fmt, data in formats.items():
            _write(out / "figures" / f"forest_{name}.{fmt}", data)
    for table in report.tables:
        _write(out / "tables" / f"{table.name}.csv", table_csv(table, report.refs))
    _write(out / "tables" / "report_tables.xlsx", workbook(list(report.tables), report.refs))
    _write(out / "results.json", json.dumps(report.results(), indent=2, sort_keys=True) + "\n")
    _write(out / "report.md", render_markdown(report))
    _write(out / "index.html", render_html(report))
    return report
