"""Table 2 as the review built it: median and range across real-world studies, next to its own."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from postcart.evidence import Cohort, Evidence
from postcart.evidence.vocab import Measure, Statistic
from postcart.report.cells import Cell, RefBook, ReportTable, fmt_number
from postcart.report.selection import Chosen, choose, has_value, is_first_cart_cohort, matches

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
    """One value per real-world study (whole cohort preferred), as the review tabulated."""

    def eligible(cohort: Cohort) -> bool:
        if product is not None and cohort.products != (product,):
            return False
        return is_first_cart_cohort(evidence, cohort)

    chosen, _ = choose(evidence, eligible, matches(measure, months), has_value)
    return Summary(tuple(float(c.outcome.value or 0.0) for c in chosen), tuple(chosen))


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
        for summary in computed:
            ref = None
            if summary.chosen:
                ref = refs.for_outcome(evidence, summary.chosen[0].outcome)
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
            "pooled estimate. One value per study (the whole cohort preferred), real-world or "
            "registry LBCL studies, first CAR T cohorts; product rows use product-only cohorts. "
            "'As reported' rows quote the review; its 27 studies cannot be identified."
        ),
    )  # fmt: skip
