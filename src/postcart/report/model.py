"""The report as one model: every table, analysis and figure, built once and read by every writer.

The HTML and Markdown renderers, ``results.json``, the CLI summary and the audit test all read
this model and nothing else, so a number cannot be computed one way for one reader and another
way for the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from postcart.evidence import Evidence
from postcart.report.analyses import (
    ProductComparison,
    cart_analyses,
    product_comparisons,
    salvage_analyses,
)
from postcart.report.cells import RefBook, ReportTable
from postcart.report.certainty import Assessed
from postcart.report.certainty.section import certainty_section
from postcart.report.compare import Changes, compare, read_results
from postcart.report.plots.forest import render
from postcart.report.pooling import Pooled
from postcart.report.snapshot import Snapshot, snapshot
from postcart.report.survival_section import survival_tables
from postcart.report.tables import (
    approvals_table,
    loo_table,
    overlap_table,
    pooled_table,
    product_table,
    realworld_table,
    salvage_table,
    studies_table,
    summary_table,
)
from postcart.report.versions import Version

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
    #: Risk-of-bias figures (``rob_summary``, ``rob_traffic_<tool>``) as PNG/SVG/PDF bytes.
    rob_figures: dict[str, dict[str, bytes]] = field(default_factory=dict)
    #: GRADE per pooled outcome, with the risk of bias, rules and overrides it used.
    certainty: Assessed | None = None
    #: The living version this build is (set by ``build_report``; ``None`` for in-memory builds).
    version: Version | None = None

    def results(self) -> dict[str, Any]:
        """``results.json``: the snapshot, the studies, every analysis's numbers."""
        studies = sorted({row.study_key for a in self.analyses for row in a.rows})
        return {
            "snapshot": self.snapshot.to_dict(),
            "studies": studies,
            "analyses": {a.name: a.to_dict() for a in self.analyses},
            "product_comparisons": {c.name: c.to_dict() for c in self.comparisons},
            "changes": None if self.changes is None else self.changes.to_dict(),
            "certainty": {}
            if self.certainty is None
            else {c.analysis: c.to_dict() for c in self.certainty.certainties},
            "version": None if self.version is None else self.version.to_dict(),
        }

    def overview(self) -> list[dict[str, Any]]:
        """Per analysis with any data: population, k, pooled %, studies used and left out."""
        out = []
        for a in self.analyses:
            if a.k == 0 and not a.skipped:
                continue
            head = a.headline()
            out.append({
                "name": a.name, "title": a.title, "population": a.population, "k": a.k,
                "pooled_percent": None if head is None else head[0],
                "used": [r.label for r in a.rows],
                "skipped": [f"{s.study.name}: {s.reason}" for s in a.skipped],
            })  # fmt: skip
        return out

    def table(self, name: str) -> ReportTable:
        """The table called ``name`` (KeyError naming it when absent)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no report table {name!r}")


def no_progress(_: str) -> None:
    return None


def assemble(
    evidence: Evidence,
    *,
    data_dir: Path | None = None,
    compare_to: Path | None = None,
    progress: Progress = no_progress,
) -> Report:
    """Compute the report's content (no files written)."""
    refs = RefBook()
    progress("tables")
    base = [approvals_table(evidence, refs), summary_table(evidence, refs),
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
        studies_table(cart + salvage, evidence, refs),
        overlap_table(evidence, refs),
        loo_table(cart + salvage),
    ]
    lacked += survival_tables(evidence, refs)  # survival after CAR T failure (issue 15)
    progress("figures")
    analyses = tuple(cart + salvage)
    figures = {a.name: render(a) for a in analyses if a.pooled}
    assessed, certainty_tables, rob_figures = certainty_section(evidence, analyses, refs)
    snap = snapshot(evidence, data_dir)
    report = Report(snap, tuple(base + lacked + certainty_tables), analyses, tuple(comparisons),
                    figures, refs, None, rob_figures, assessed)  # fmt: skip
    if compare_to is not None:
        old = read_results(Path(compare_to))
        report = replace(report, changes=compare(old, report.results()))
    return report
