"""Studies used and studies left out, per analysis: what a reader needs to check one estimate.

Every row a pooled estimate rests on (n, events and how they are known, value, weight) and
every study with data for the outcome that was left out, with the reason, under the analysis.
"""

from __future__ import annotations

import math

from postcart.evidence import Evidence
from postcart.report.cells import Cell, RefBook, ReportTable, fmt_fixed, fmt_number
from postcart.report.pooling import Pooled


def _events(events: int | None, basis: str) -> str:
    if events is None:
        return ""
    return f"≈{events}" if basis == "approximate" else str(events)


def studies_table(analyses: list[Pooled], evidence: Evidence, refs: RefBook) -> ReportTable:
    """One row per study used or skipped, grouped by analysis (analyses with any data)."""
    rows: list[tuple[Cell, ...]] = []
    for p in analyses:
        if p.k == 0 and not p.skipped:
            continue
        for r in p.rows:
            ref = refs.for_outcome(evidence, evidence.outcome(r.outcome_ref))
            # A proportion row's value is events/n computed here; a landmark row's is reported.
            shown = fmt_fixed(r.value) if r.events is not None else fmt_number(r.value)
            value = "" if math.isnan(r.value) else f"{shown}%"
            ci = ""
            if r.ci_low is not None and r.ci_high is not None:
                ci = f"{fmt_number(r.ci_low)}–{fmt_number(r.ci_high)}%"
            weight = "" if r.weight is None else f"{fmt_fixed(r.weight)}%"
            rows.append((
                Cell(p.title), Cell(r.label), Cell("used"), Cell(fmt_number(r.n, 0)),
                Cell(r.basis), Cell(_events(r.events, r.events_basis)), Cell(value, ref),
                Cell(ci), Cell(weight), Cell(r.precision),
            ))  # fmt: skip
        for s in p.skipped:
            rows.append((
                Cell(p.title), Cell(s.study.name), Cell("left out"), Cell(), Cell(), Cell(),
                Cell(), Cell(), Cell(), Cell(s.reason),
            ))  # fmt: skip
    return ReportTable(
        "analysis_studies", "Studies used and left out, per analysis",
        ("Analysis", "Study", "Status", "n", "Denominator", "Events", "Value", "Reported 95% CI",
         "Weight", "Precision / reason"),
        tuple(rows),
        method=(
            "For each analysis with any data: the cohorts pooled (n is the denominator the "
            "events are out of; events printed, exactly derived from the percentage, or ≈ "
            "approximate = % × n; weight in the two-step model) and every study that reports "
            "the outcome but was left out, with the reason (population, denominator, overlap "
            "with another report, no usable count)."
        ),
    )  # fmt: skip
