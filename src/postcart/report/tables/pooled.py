"""The pooled estimates the review lacked: one row per analysis, with the population it pools."""

from __future__ import annotations

import math

from postcart.report.cells import (
    Cell,
    Ref,
    RefBook,
    ReportTable,
    anchor_for,
    fmt_fixed,
    fmt_number,
    fmt_p,
)
from postcart.report.pooling import LANDMARK_METHOD, PROPORTION_METHOD, Pooled


def ci_text(low: float, high: float) -> str:
    """``low–high%``, blank when either end is not a number."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"{fmt_fixed(low)}–{fmt_fixed(high)}%"


def analysis_ref(refs: RefBook, pooled: Pooled) -> str:
    """A note naming the method, the studies (with their outcome refs) and the R script."""
    studies = "; ".join(f"{r.label} [{r.outcome_ref}]" for r in pooled.rows)
    return refs.add(Ref(
        anchor=anchor_for(f"a-{pooled.name}"), label=f"computed: {pooled.title}",
        locator=f"analyses/{pooled.name}.R", quote=f"Studies pooled: {studies}",
        citation=pooled.method,
    ))  # fmt: skip


def sensitivity_text(p: Pooled) -> str:
    """Every sensitivity analysis of one pooled estimate, in one cell."""
    parts = []
    sens = p.sensitivity_percent()
    if sens is not None:
        parts.append(f"{p.sensitivity_label}: {fmt_fixed(sens[0])}% ({ci_text(sens[1], sens[2])})")
    if p.rounding is not None:
        low, high = p.rounding
        parts.append(
            f"approximate events at their rounding bounds: {fmt_fixed(low)}% to {fmt_fixed(high)}%"
        )
    for swapped, value in p.overlap_swaps:
        parts.append(f"overlap choice, {swapped}: {fmt_fixed(value)}%")
    return "; ".join(parts)


def pooled_table(name: str, title: str, analyses: list[Pooled], refs: RefBook) -> ReportTable:
    """One row per analysis: population, k, pooled % with CI and PI, heterogeneity, sensitivity."""
    rows: list[tuple[Cell, ...]] = []
    for p in analyses:
        if p.k == 0:
            continue
        ref = analysis_ref(refs, p)
        head = p.headline()
        notes = " ".join((p.guard(), *p.notes, *p.possible_overlaps)).strip()
        if head is None or p.primary is None:
            single = ""
            if p.k == 1:  # the one study as its source printed it ("46%", not 6/13 = 46.2%)
                r = p.rows[0]
                shown = r.value if r.reported is None else r.reported
                n = "" if r.n is None else f" (n = {r.n})"
                single = f"{r.label}: {fmt_number(shown)}%{n} — "
            rows.append((Cell(p.title), Cell(p.population), Cell(str(p.k)),
                         Cell("not pooled", ref), Cell(), Cell(), Cell(), Cell(),
                         Cell(single + notes)))  # fmt: skip
            continue
        fit = p.primary
        het = (f"τ² {fmt_fixed(fit.tau2, 3)}; I² {fmt_fixed(fit.i2)}%; "
               f"Q({fit.q_df}) {fmt_fixed(fit.q, 2)}, p {fmt_p(fit.q_p)}")  # fmt: skip
        rows.append((
            Cell(p.title), Cell(p.population), Cell(str(p.k)), Cell(f"{fmt_fixed(head[0])}%", ref),
            Cell(ci_text(head[1], head[2]), ref), Cell(ci_text(head[3], head[4]), ref),
            Cell(het, ref), Cell(sensitivity_text(p), ref), Cell(notes),
        ))  # fmt: skip
    populations = "; ".join(dict.fromkeys(p.population_detail for p in analyses if p.k))
    method = (
        f"Proportions: {PROPORTION_METHOD} Landmark rates: {LANDMARK_METHOD} Each row pools "
        f"only the population it names ({populations}); the studies used and every study left "
        "out, with the reason, are listed per analysis below."
    )
    return ReportTable(
        name, title,
        ("Outcome", "Population", "k", "Pooled", "95% CI", "95% PI", "Heterogeneity",
         "Sensitivity", "Notes"),
        tuple(rows), method=method,
    )  # fmt: skip
