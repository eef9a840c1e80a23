"""The review's Tables 1, 3 and 4 rebuilt from the evidence base, every cell traceable."""

from __future__ import annotations

from postcart.evidence import Cohort, Evidence, Outcome
from postcart.evidence.vocab import Measure
from postcart.report.cells import Cell, RefBook, ReportTable, fmt_number, fmt_percent
from postcart.report.selection import LBCL_DISEASES, REAL_WORLD_DESIGNS

#: Table 3 columns after the descriptive ones: (header, measure, landmark months).
TABLE3_MEASURES: tuple[tuple[str, Measure, float | None], ...] = (
    ("ORR", Measure.orr, None),
    ("CR", Measure.cr, None),
    ("1-y OS", Measure.os_rate, 12.0),
    ("1-y PFS", Measure.pfs_rate, 12.0),
    ("CRS any", Measure.crs_any, None),
    ("CRS ≥3", Measure.crs_g3plus, None),
    ("ICANS any", Measure.icans_any, None),
    ("ICANS ≥3", Measure.icans_g3plus, None),
)


def product_table(evidence: Evidence, refs: RefBook) -> ReportTable:
    """Table 1: approved CD19 CAR T products, one row per approval."""
    rows: list[tuple[Cell, ...]] = []
    for product in evidence.products:
        if not product.approved or product.target != "CD19":
            continue
        base = None
        if product.provenance is not None:
            base = refs.for_provenance(
                evidence, f"p-{product.key}", product.provenance, product.source_key,
                f"{product.generic_name} (catalogue)",
            )  # fmt: skip
        head = (
            Cell(product.generic_name, base),
            Cell(product.brand_name or "", base if product.brand_name else None),
            Cell(
                product.costimulatory_domain or "", base if product.costimulatory_domain else None
            ),
        )
        for i, ind in enumerate(product.indications or ()):
            ref = refs.for_provenance(
                evidence, f"p-{product.key}-{i}", ind.provenance, product.source_key,
                f"{product.generic_name}: {ind.agency} approval",
            )  # fmt: skip
            year = "" if ind.year is None else str(ind.year)
            rows.append(
                (
                    *head,
                    Cell(ind.indication, ref),
                    Cell(ind.agency, ref),
                    Cell(year, ref if year else None),
                    Cell(ind.pivotal_trial or "", ref if ind.pivotal_trial else None),
                )
            )
        if not product.indications:
            rows.append((*head, Cell(), Cell(), Cell(), Cell()))
    return ReportTable(
        "table1", "Table 1. FDA-approved CD19-directed CAR T-cell products",
        ("Generic name", "Brand", "Co-stimulatory domain", "Approved indication", "Agency",
         "Year", "Pivotal trial"),
        tuple(rows),
        method="As curated in the product catalogue; blank = not stated in any source read.",
    )  # fmt: skip


def outcome_cell(evidence: Evidence, refs: RefBook, outcome: Outcome | None) -> Cell:
    """A percent value linked to its quote; a landmark other than the column's is spelled out."""
    if outcome is None or outcome.value is None:
        return Cell()
    text = fmt_percent(outcome.value)
    if outcome.events is not None:
        text += f" ({outcome.events})"
    return Cell(text, refs.for_outcome(evidence, outcome))


def first_outcome(
    evidence: Evidence, cohort: Cohort, measure: Measure, months: float | None
) -> Outcome | None:
    """The cohort's first point value of one measure at one landmark."""
    for outcome in evidence.outcomes_for(cohort.key, measure):
        at_landmark = outcome.timepoint_months == months and outcome.value is not None
        if at_landmark and outcome.statistic.value == "point":
            return outcome
    return None


def realworld_table(evidence: Evidence, refs: RefBook) -> ReportTable:
    """Table 3: every real-world LBCL CAR T cohort the base holds, one row per cohort."""
    rows: list[tuple[Cell, ...]] = []
    for study in evidence.studies:
        if study.design not in REAL_WORLD_DESIGNS or study.post_cart_specific:
            continue
        for cohort in evidence.cohorts_for_study(study.key):
            if cohort.therapy is not None or (cohort.disease or study.disease) not in LBCL_DISEASES:
                continue
            values = [first_outcome(evidence, cohort, m, t) for _, m, t in TABLE3_MEASURES]
            if cohort.subgroup_of is not None and not any(values):
                continue
            src = refs.for_source(evidence, study.source_key)
            rows.append((
                Cell(study.name, src), Cell(cohort.label),
                Cell(study.region or "", src if study.region else None),
                Cell(fmt_number(cohort.n, 0), src if cohort.n is not None else None),
                Cell(", ".join(cohort.products) or "not stated"),
                *(outcome_cell(evidence, refs, o) for o in values),
            ))  # fmt: skip
    return ReportTable(
        "table3", "Table 3. Real-world CD19 CAR T data in LBCL, per study and cohort",
        ("Study", "Cohort", "Country / setting", "n", "Product",
         *(h for h, _, _ in TABLE3_MEASURES)),
        tuple(rows),
        method=(
            "Studies of design real-world or registry, LBCL histologies, CAR T cohorts (not "
            "salvage cohorts). Values as reported, percent; event counts in brackets where "
            "printed or exactly derivable. Subgroup rows appear only when they hold values. "
            "Blank = not reported in any source read."
        ),
    )  # fmt: skip
