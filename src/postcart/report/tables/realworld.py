"""Table 3: every real-world LBCL CAR T cohort, with its role and denominator, every cell traced.

Comparator arms, salvage cohorts and other populations are not CAR T outcomes and never appear
here; selected cohorts (CR at infusion, after autoHCT failure...) do, labelled as selected.
"""

from __future__ import annotations

from postcart.evidence import Evidence
from postcart.evidence.vocab import CohortRole, Measure
from postcart.report.cells import Cell, RefBook, ReportTable, fmt_number
from postcart.report.populations import BASIS_LABEL, LBCL_DISEASES, REAL_WORLD_DESIGNS
from postcart.report.tables._outcomes import first_outcome, outcome_cell

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
#: Roles of CAR T-treated cohorts: the only ones Table 3 shows.
CART_ROLES = frozenset(
    {CohortRole.cart_all_comers, CohortRole.cart_product_arm, CohortRole.cart_selected}
)


def realworld_table(evidence: Evidence, refs: RefBook) -> ReportTable:
    """Table 3: every real-world LBCL CAR T cohort the base holds, one row per cohort."""
    rows: list[tuple[Cell, ...]] = []
    for study in evidence.studies:
        if study.design not in REAL_WORLD_DESIGNS:
            continue
        for cohort in evidence.cohorts_for_study(study.key):
            if cohort.role not in CART_ROLES:
                continue
            if (cohort.disease or study.disease) not in LBCL_DISEASES:
                continue
            values = [first_outcome(evidence, cohort, m, t) for _, m, t in TABLE3_MEASURES]
            if cohort.subgroup_of is not None and not any(values):
                continue
            src = refs.for_source(evidence, study.source_key)
            n_ref = refs.for_cohort_n(evidence, cohort) if cohort.n is not None else None
            role = role_text(cohort.role, cohort.selection)
            rows.append((
                Cell(study.name, src), Cell(cohort.label),
                Cell(study.region or "", src if study.region else None),
                Cell(fmt_number(cohort.n, 0), n_ref),
                Cell(BASIS_LABEL[cohort.denominator_basis]), Cell(role),
                Cell(", ".join(cohort.products) or "not stated"),
                *(outcome_cell(evidence, refs, o) for o in values),
            ))  # fmt: skip
    return ReportTable(
        "table3", "Table 3. Real-world CD19 CAR T data in LBCL, per study and cohort",
        ("Study", "Cohort", "Country / setting", "n", "Denominator", "Population", "Product",
         *(h for h, _, _ in TABLE3_MEASURES)),
        tuple(rows),
        method=(
            "Studies of design real-world or registry, LBCL histologies, CAR T-treated cohorts "
            "only: all-comers, product arms and selected cohorts (labelled with how they were "
            "selected). Comparator arms, salvage cohorts and other populations are not shown. "
            "Values as reported, percent; event counts in brackets where printed or exactly "
            "derivable (never from a Kaplan–Meier rate); † marks a number another source "
            "contradicts (see its provenance note). Subgroup rows appear only when they hold "
            "values. Blank = not reported in any source read."
        ),
    )  # fmt: skip


def role_text(role: CohortRole, selection: str | None) -> str:
    """How a cohort's role reads in a table: all-comers, product arm, or selected (how)."""
    if role == CohortRole.cart_selected:
        return f"selected: {' '.join((selection or '').split())}"
    names = {CohortRole.cart_all_comers: "all-comers", CohortRole.cart_product_arm: "product arm"}
    return names.get(role, role.value.replace("_", " "))
