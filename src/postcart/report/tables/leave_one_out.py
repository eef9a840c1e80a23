"""Leave-one-out: each pooled value refitted without one study at a time."""

from __future__ import annotations

from postcart.report.cells import Cell, ReportTable, fmt_fixed
from postcart.report.pooling import Pooled
from postcart.report.tables.pooled import ci_text


def loo_table(analyses: list[Pooled]) -> ReportTable:
    """Leave-one-out: the pooled value without each study in turn (two-step model, k ≥ 3)."""
    rows = []
    for p in analyses:
        for omitted, est, lo, hi in p.loo:
            rows.append((Cell(p.title), Cell(omitted), Cell(f"{fmt_fixed(est)}%"),
                         Cell(ci_text(lo, hi))))  # fmt: skip
    return ReportTable(
        "leave_one_out", "Sensitivity: leave-one-out",
        ("Analysis", "Study omitted", "Pooled without it", "95% CI"), tuple(rows),
        method="Two-step model of each analysis (REML, HKSJ) refitted without one study.",
    )  # fmt: skip
