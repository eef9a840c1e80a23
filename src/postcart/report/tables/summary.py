"""Table 2 as the review built it: median and range across real-world studies, next to its own."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from postcart.evidence import Evidence
from postcart.evidence.vocab import Measure, Statistic
from postcart.report.cells import Cell, Ref, RefBook, ReportTable, anchor_for, fmt_number
from postcart.report.populations import REAL_WORLD_CART, real_world_product
from postcart.report.selection import Chosen, Skipped, choose, has_value, matches

#: Columns of the review's Table 2 (its prose gives these four).
TABLE2_MEASURES: tuple[tuple[str, Measure, float | None], ...] = (
    ("ORR", Measure.orr, None),
    ("CR", Measure.cr, None),
    ("1-y OS", Measure.os_rate, 12.0),
    ("1-y PFS", Measure.pfs_rate, 12.0),
)
#: Rows: all products, then product-only studies; ``None`` means every product.
GROUPS: tuple[tuple[str, str | None, str], ...] = (
    ("All products", None, "rw_summary_all"),
    ("Axi-cel", "axi-cel", "rw_summary_axicel"),
    ("Tisa-cel", "tisa-cel", "rw_summary_tisacel"),
)


@dataclass(frozen=True)
class Summary:
    """Median and range of per-study values, with the studies behind them."""

    values: tuple[float, ...]
    chosen: tuple[Chosen, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def text(self) -> str:
        """``median (min–max), k studies`` or blank when no study reports it."""
        if not self.values:
            return ""
        med = statistics.median(self.values)
        if len(self.values) == 1:
            return f"{fmt_number(med)}% (k = 1)"
        low, high = fmt_number(min(self.values)), fmt_number(max(self.values))
        return f"{fmt_number(med)}% ({low}–{high}), k = {len(self.values)}"


def per_study_values(
    evidence: Evidence, measure: Measure, months: float | None, product: str | None
) -> Summary:
    """One value per real-world study and overlap group (all-comers), as the review tabulated."""
    population = REAL_WORLD_CART if product is None else real_world_product(product)
    sel = choose(evidence, population, matches(measure, months), has_value, allow_arms=False)
    values = tuple(float(c.outcome.value or 0.0) for c in sel.chosen)
    return Summary(values, tuple(sel.chosen), tuple(sel.skipped))


def _studies_ref(refs: RefBook, key: str, group: str, header: str, summary: Summary) -> str | None:
    """A note listing the studies behind a recomputed cell, each with its value and outcome."""
    if not summary.chosen:
        return None
    studies = "; ".join(
        f"{c.study.name} [{c.outcome.ref}] {fmt_number(c.outcome.value)}%" for c in summary.chosen
    )
    left_out = "; ".join(f"{s.study.name}: {s.reason}" for s in summary.skipped)
    return refs.add(
        Ref(
            anchor=anchor_for(key),
            label=f"computed: Table 2, {group}, {header}",
            quote=f"Studies: {studies}",
            citation=f"Left out: {left_out}" if left_out else None,
        )
    )


def _as_reported(evidence: Evidence, refs: RefBook, cohort_key: str, measure: Measure) -> Cell:
    try:
        outcomes = evidence.outcomes_for(cohort_key, measure)
    except KeyError:
        return Cell()
    for o in outcomes:
        ref = refs.for_outcome(evidence, o)
        low, high = fmt_number(o.range_low), fmt_number(o.range_high)
        if o.statistic == Statistic.median_across_studies and o.value is not None:
            return Cell(f"{fmt_number(o.value)}% ({low}–{high}), {o.n_studies} studies", ref)
        if o.statistic == Statistic.range_across_studies:
            return Cell(f"{low}–{high}%, {o.n_studies} studies", ref)
    return Cell()


def summary_table(evidence: Evidence, refs: RefBook) -> ReportTable:
    """Recomputed rows ('from this base') interleaved with the review's ('as reported')."""
    rows: list[tuple[Cell, ...]] = []
    for label, product, review_cohort in GROUPS:
        computed = [per_study_values(evidence, m, t, product) for _, m, t in TABLE2_MEASURES]
        cells = []
        for (header, _, _), summary in zip(TABLE2_MEASURES, computed, strict=True):
            ref = _studies_ref(refs, f"t2-{review_cohort}-{header}", label, header, summary)
            cells.append(Cell(summary.text, ref))
        rows.append((Cell(label), Cell("recomputed from this base"), *cells))
        reported = [_as_reported(evidence, refs, review_cohort, m) for _, m, _ in TABLE2_MEASURES]
        rows.append((Cell(label), Cell("as reported (Negishi 2024)"), *reported))
    return ReportTable(
        "table2", "Table 2. Summary of real-world data (median and range across studies)",
        ("Products", "Basis", *(h for h, _, _ in TABLE2_MEASURES)),
        tuple(rows),
        method=(
            "As the review did: the median and range of per-study values, not a weighted "
            "pooled estimate. Population: " + REAL_WORLD_CART.explain() + ". One value per "
            "study (the whole cohort, infused before ITT) and one per overlap group (cohorts "
            "that share patients, see the overlap register); product rows use product-only "
            "cohorts. 'As reported' rows quote the review; its 27 studies cannot be identified."
        ),
    )  # fmt: skip
