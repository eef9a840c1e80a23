"""The tables the review lacked: pooled estimates, product comparison, leave-one-out."""

from __future__ import annotations

import math

from postcart.report.analyses import PRODUCT_METHOD, ProductComparison
from postcart.report.cells import Cell, Ref, RefBook, ReportTable, anchor_for, fmt_number
from postcart.report.pooling import LANDMARK_METHOD, PROPORTION_METHOD, Pooled


def _ci(low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"{fmt_number(low)}–{fmt_number(high)}%"


def analysis_ref(refs: RefBook, pooled: Pooled) -> str:
    """A note naming the method, the studies (with their outcome refs) and the R script."""
    studies = "; ".join(f"{r.label} [{r.outcome_ref}]" for r in pooled.rows)
    return refs.add(Ref(
        anchor=anchor_for(f"a-{pooled.name}"), label=f"computed: {pooled.title}",
        locator=f"analyses/{pooled.name}.R", quote=f"Studies pooled: {studies}",
        citation=pooled.method,
    ))  # fmt: skip


def pooled_table(name: str, title: str, analyses: list[Pooled], refs: RefBook) -> ReportTable:
    """One row per analysis: k, pooled % with CI and PI, heterogeneity, sensitivity, or why not."""
    rows: list[tuple[Cell, ...]] = []
    for p in analyses:
        if p.k == 0:
            continue
        ref = analysis_ref(refs, p)
        head = p.headline()
        if head is None or p.primary is None:
            single = ""
            if p.k == 1:
                r = p.rows[0]
                single = f"{r.label}: {fmt_number(r.value)}%"
            rows.append((Cell(p.title), Cell(str(p.k)), Cell("not pooled", ref), Cell(), Cell(),
                         Cell(), Cell(), Cell(single + " — " + " ".join(p.notes)),
                         ))  # fmt: skip
            continue
        fit = p.primary
        sens = p.sensitivity
        sens_text = ""
        if sens is not None and sens.status == "ok":
            s = p.to_dict()["sensitivity_percent"]
            sens_text = f"{p.sensitivity_label}: {fmt_number(s[0])}% ({_ci(s[1], s[2])})"
        het = (f"τ² {fmt_number(fit.tau2, 3)}; I² {fmt_number(fit.i2)}%; "
               f"Q({fit.q_df}) {fmt_number(fit.q, 2)}, p {fmt_number(fit.q_p, 3)}")  # fmt: skip
        rows.append((
            Cell(p.title), Cell(str(p.k)), Cell(f"{fmt_number(head[0])}%", ref),
            Cell(_ci(head[1], head[2]), ref), Cell(_ci(head[3], head[4]), ref), Cell(het, ref),
            Cell(sens_text, ref), Cell(" ".join(p.notes)),
        ))  # fmt: skip
    method = f"Proportions: {PROPORTION_METHOD} Landmark rates: {LANDMARK_METHOD}"
    return ReportTable(
        name, title,
        ("Outcome", "k", "Pooled", "95% CI", "95% PI", "Heterogeneity", "Sensitivity", "Notes"),
        tuple(rows), method=method,
    )  # fmt: skip


def product_table(comparisons: list[ProductComparison]) -> ReportTable:
    """Axi-cel versus tisa-cel, per outcome."""
    rows = []
    for c in comparisons:
        cells = []
        for i, _level in enumerate(c.levels):
            if c.percent:
                est, lo, hi = c.percent[i]
                cells.append(Cell(f"{fmt_number(est)}% ({_ci(lo, hi)}), k = {c.k[i]}"))
            else:
                cells.append(Cell(f"k = {c.k[i]}"))
        q = "" if c.q_between_p is None else (
            f"Q {fmt_number(c.q_between, 2)}, p {fmt_number(c.q_between_p, 4)}")  # fmt: skip
        rows.append((Cell(c.title), *cells, Cell(q), Cell(c.note)))
    return ReportTable(
        "products", "Subgroups: axi-cel versus tisa-cel (real-world LBCL)",
        ("Outcome", "Axi-cel", "Tisa-cel", "Test of difference", "Notes"), tuple(rows),
        method=PRODUCT_METHOD,
    )  # fmt: skip


def loo_table(analyses: list[Pooled]) -> ReportTable:
    """Leave-one-out: the pooled value without each study in turn (two-step model, k ≥ 3)."""
    rows = []
    for p in analyses:
        for omitted, est, lo, hi in p.loo:
            rows.append((Cell(p.title), Cell(omitted), Cell(f"{fmt_number(est)}%"),
                         Cell(_ci(lo, hi))))  # fmt: skip
    return ReportTable(
        "leave_one_out", "Sensitivity: leave-one-out",
        ("Analysis", "Study omitted", "Pooled without it", "95% CI"), tuple(rows),
        method="Two-step model of each analysis (REML, HKSJ) refitted without one study.",
    )  # fmt: skip
